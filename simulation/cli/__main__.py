from simulation.entry import main

main()
