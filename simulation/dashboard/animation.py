"""The clinic animated from its event log (the vidigi convention: ``entity_id``, ``event``,
``time``, ``resource_id``): clients as dots moving between the intake waitlist, assessment,
the IOP waitlist, each track and step-down; each group room's seats filling at session times;
a clock and counters; play/pause and a time slider.

The page stays light: the event log is reduced to one interval per client and place (a few
kilobytes) and the browser builds the Plotly animation frames from it on load, so the page is
plotly.js plus a few tens of kilobytes, whatever the number of frames. vidigi (2.0) would
write every frame's positions into the figure (megabytes for four weeks at two-hour steps) and
pins its own Plotly; the small part needed is written here instead.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd

from simulation.clock import HOURS_PER_DAY, WEEKDAYS

# (place, the event that starts it, the events that end it, earliest first)
PLACES = (
    ("Waiting for intake", "arrival", ("intake_assessment_start", "depart")),
    ("In assessment", "intake_assessment_start", ("intake_assessment_end",)),
    ("Waiting for an IOP place", "iop_waitlist_join", ("iop_start", "depart")),
    ("IOP", "iop_start", ("iop_end",)),
    ("Step-down (outpatient)", "op_start", ("op_end",)),
)


def client_intervals(events: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    """One row per client and place they were in during [start, end): entity, place (the IOP
    split by track), start, stop (clipped to the window)."""
    clients = events[events["entity_id"] >= 0]
    first = clients.pivot_table(index="entity_id", columns="event", values="time", aggfunc="min")
    track = clients[clients["event"] == "iop_start"].groupby("entity_id")["resource_id"].first()
    rows = []
    for place, opens, closes in PLACES:
        if opens not in first:
            continue
        began = first[opens].dropna()
        closing = [first[c].reindex(began.index) for c in closes if c in first]
        ends = (
            pd.concat(closing, axis=1).min(axis=1)
            if closing
            else pd.Series(np.inf, index=began.index)
        )
        ends = ends.fillna(np.inf)
        keep = (began < end) & (ends > start) & (ends > began)
        frame = pd.DataFrame(
            {
                "entity": began.index[keep].astype(int),
                "place": place,
                "start": np.maximum(began[keep].to_numpy(), start),
                "stop": np.minimum(ends[keep].to_numpy(), end),
            }
        )
        if place == "IOP":
            frame["place"] = (
                "IOP: " + track.reindex(frame["entity"]).fillna("").astype(str).to_numpy()
            )
        rows.append(frame)
    if not rows:
        return pd.DataFrame(columns=["entity", "place", "start", "stop"])
    return pd.concat(rows, ignore_index=True).sort_values(["start", "entity"], kind="stable")


def in_place_at(intervals: pd.DataFrame, place: str, t: float) -> int:
    """How many clients are in ``place`` at time ``t``."""
    rows = intervals[intervals["place"] == place]
    return int(((rows["start"] <= t) & (rows["stop"] > t)).sum())


def animation_data(
    scenario,
    events: pd.DataFrame,
    sessions: pd.DataFrame,
    first_week: int,
    weeks: int,
    step_hours: float,
) -> dict:
    """What the page needs, compact: intervals, sessions with seats, departures, frame times."""
    start = first_week * 168.0
    end = start + weeks * 168.0
    intervals = client_intervals(events, start, end)
    tracks = [t.name for t in scenario.tracks]
    places = [p for p, _, _ in PLACES if p != "IOP"]
    places = places[:3] + [f"IOP: {t}" for t in tracks] + places[3:]
    index = {p: i for i, p in enumerate(places)}
    intervals = intervals[intervals["place"].isin(index)]
    seats = {t.name: t.seats for t in scenario.tracks}
    hours = {
        t.name: max([t.session_hours, *t.session_hours_by_day.values()]) for t in scenario.tracks
    }
    held = (
        sessions[(sessions["held"]) & (sessions["time"] < end) & (sessions["time"] >= start - 24)]
        if len(sessions)
        else sessions
    )
    departures = events[
        (events["event"] == "depart") & (events["time"] >= start) & (events["time"] < end)
    ]
    shown = [html.escape(p, quote=False) for p in places]  # Plotly reads its text as HTML
    return {
        "start": start,
        "end": end,
        "step": step_hours,
        "places": shown,
        "tracks": [html.escape(t, quote=False) for t in tracks],
        "intervals": [
            [int(r.entity), index[r.place], round(float(r.start), 2), round(float(r.stop), 2)]
            for r in intervals.itertuples()
        ],
        "sessions": [
            [
                tracks.index(r.track),
                round(float(r.time), 2),
                round(float(r.time + hours[r.track]), 2),
                int(r.attendees),
                int(seats[r.track]),
            ]
            for r in held.itertuples()
            if r.track in seats
        ],
        "departures": [round(float(x), 2) for x in departures["time"]],
        "arrivals": [
            round(float(x), 2)
            for x in events.loc[
                (events["event"] == "arrival") & (events["time"] >= start) & (events["time"] < end),
                "time",
            ]
        ],
        "weekdays": list(WEEKDAYS),
        "hours_per_day": HOURS_PER_DAY,
    }


ANIMATION_JS = """
(function(){
var D=JSON.parse(document.getElementById('animation-data').textContent);
var P=D.places.length, COLS=12, W=3.6, BOXW=3.2;
function boxX(p){return p*W;}
var colours=['#f28e2b','#edc948','#e15759','#4e79a7','#76b7b2','#59a14f','#b07aa1','#9c755f'];
function clock(t){var d=Math.floor(t/24), h=t-24*d, hh=Math.floor(h), mm=Math.round((h-hh)*60);
 return 'Week '+(Math.floor(d/7)+1)+', '+D.weekdays[d%7]+' '+String(hh).padStart(2,'0')+':'+String(mm).padStart(2,'0');}
var times=[];for(var t=D.start;t<D.end-1e-9;t+=D.step){times.push(t);}
function frameAt(t){
 var here=[];for(var p=0;p<P;p++){here.push([]);}
 D.intervals.forEach(function(r){if(r[2]<=t&&r[3]>t){here[r[1]].push(r);}});
 var xs=[],ys=[],ids=[],cs=[],counts=[];
 for(var p=0;p<P;p++){here[p].sort(function(a,b){return a[2]-b[2]||a[0]-b[0];});counts.push(here[p].length);
  here[p].forEach(function(r,i){xs.push(boxX(p)+0.25+(i%COLS)*(BOXW-0.5)/(COLS-1));ys.push(8.6-Math.floor(i/COLS)*0.55);ids.push(String(r[0]));cs.push(colours[p%colours.length]);});}
 var sx=[],sy=[],sc=[];
 D.tracks.forEach(function(name,k){var s=D.sessions.find(function(x){return x[0]===k&&x[1]<=t&&x[2]>t;});
  var p=D.places.indexOf('IOP: '+name);var n=s?s[4]:0;
  for(var i=0;i<n;i++){sx.push(boxX(p)+0.25+(i%COLS)*(BOXW-0.5)/(COLS-1));sy.push(1.2-Math.floor(i/COLS)*0.5);sc.push(i<s[3]?'#1f3b57':'#ffffff');}});
 var arrived=D.arrivals.filter(function(x){return x<=t;}).length, left=D.departures.filter(function(x){return x<=t;}).length;
 var notes=[{x:0,y:10.4,xanchor:'left',showarrow:false,text:'<b>'+clock(t)+'</b>  referrals so far '+arrived+' · left the clinic '+left,font:{size:15}}];
 for(var p=0;p<P;p++){notes.push({x:boxX(p)+BOXW/2,y:9.5,showarrow:false,text:D.places[p]+': <b>'+counts[p]+'</b>',font:{size:12}});}
 D.tracks.forEach(function(name){var p=D.places.indexOf('IOP: '+name);notes.push({x:boxX(p)+BOXW/2,y:1.9,showarrow:false,text:'group room (seats)',font:{size:11,color:'#555'}});});
 return {name:String(t),data:[{x:xs,y:ys,ids:ids,marker:{color:cs}},{x:sx,y:sy,marker:{color:sc}}],layout:{annotations:notes},counts:counts};
}
var frames=times.map(frameAt);
var shapes=[];for(var p=0;p<P;p++){shapes.push({type:'rect',x0:boxX(p),x1:boxX(p)+BOXW,y0:0.3,y1:9.1,line:{color:'#bbb'},fillcolor:'rgba(0,0,0,0)'});}
var first=frames[0];
var data=[{type:'scatter',mode:'markers',x:first.data[0].x,y:first.data[0].y,ids:first.data[0].ids,marker:{size:9,color:first.data[0].marker.color},hoverinfo:'skip',name:'clients'},
 {type:'scatter',mode:'markers',x:first.data[1].x,y:first.data[1].y,marker:{size:10,symbol:'square',line:{color:'#1f3b57',width:1},color:first.data[1].marker.color},hoverinfo:'skip',name:'seats'}];
var steps=frames.map(function(f,i){return {method:'animate',label:(i%12===0?clock(times[i]).replace(/ \\d\\d:\\d\\d$/,''):''),args:[[f.name],{mode:'immediate',frame:{duration:0,redraw:false},transition:{duration:0}}]};});
var layout={template:IOPSIM_TEMPLATE,height:620,showlegend:false,margin:{l:20,r:20,t:30,b:20},
 xaxis:{visible:false,range:[-0.2,P*W]},yaxis:{visible:false,range:[-0.6,10.9]},shapes:shapes,annotations:first.layout.annotations,
 sliders:[{active:0,x:0,len:1,y:-0.02,currentvalue:{visible:false},steps:steps}]};
// play and pause: a paused animation's promise is rejected by design; nothing is wrong
function quiet(p){if(p&&p.catch){p.catch(function(){});}}
document.getElementById('animation-play').addEventListener('click',function(){
 quiet(Plotly.animate('animation',null,{frame:{duration:120,redraw:false},transition:{duration:0},fromcurrent:true,mode:'immediate'}));});
document.getElementById('animation-pause').addEventListener('click',function(){
 quiet(Plotly.animate('animation',[null],{frame:{duration:0,redraw:false},transition:{duration:0},mode:'immediate'}));});
Plotly.newPlot('animation',data,layout,{displaylogo:false,responsive:true}).then(function(){
 Plotly.addFrames('animation',frames.map(function(f){return {name:f.name,data:f.data,traces:[0,1],layout:f.layout};}));
 window.IOPSIM_ANIMATION={times:times,counts:frames.map(function(f){return f.counts;}),places:D.places};
});
})();
"""


def animation_page(scenario, data: dict, info: str) -> str:
    """A page of its own: the animation and how to read it."""
    from markupsafe import Markup

    from simulation.dashboard.page.frame import PARTS, render

    # (the data's '<', '>' and '&' are \\u escapes: it is safe inside its script tag)
    payload = (
        json.dumps(data, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    section = PARTS.animation(Markup(payload), Markup(ANIMATION_JS))
    header = [PARTS.h1(f"The clinic animated: {scenario.name}"), PARTS.p(info)]
    return render(f"iopsim animation: {scenario.name}", header, [section], [])
