#!/usr/bin/env python3
"""When does a result's division come, against the truth's? For every division
of each RES (a mother with two daughters that begin in the same frame t), the
truth's object covering most of each daughter in frame t: both the same truth
cell, which divides later (early: the segmentation parted the mother before
the truth's division), or a non-dividing cell (samecell: a false division);
two truth sisters born in frame t (ontime) or before it (late); else other.
Prints the counts, then how many of each kind reach a contact between the two
daughters in frame t (4-connected pixel pairs, divided by their mean width
from second moments) of at least each threshold: is the contact what tells an
early division from one on time?

    .pyenv/bin/python scripts/division-timing.py GT1 RES1 [GT2 RES2 ...]   # GT holding TRA/
"""
import collections
import os
import sys
from collections import defaultdict

import numpy as np
import tifffile


def tracks(p):
    return {r[0]:(r[1],r[2],r[3]) for r in (list(map(int,l.split())) for l in open(p) if l.strip())}
def contact(m, a, b):
    A = (m==a); B=(m==b)
    c = (A[:,:-1]&B[:,1:]).sum()+(B[:,:-1]&A[:,1:]).sum()+(A[:-1,:]&B[1:,:]).sum()+(B[:-1,:]&A[1:,:]).sum()
    return int(c)
def width(m, a):
    ys,xs=np.nonzero(m==a)
    if len(ys)<3: return 0,0
    c=np.cov(np.vstack([ys,xs])); ev=np.sort(np.linalg.eigvalsh(c))
    L=4*np.sqrt(max(ev[1],1e-9)); return len(ys)/L, L
rows=[]
for gt, res in zip(sys.argv[1::2], sys.argv[2::2]):
    T=tracks(os.path.join(gt,'TRA','man_track.txt')); R=tracks(os.path.join(res,'res_track.txt'))
    kids=defaultdict(list)
    for l,(b,e,p) in R.items():
        if p: kids[p].append(l)
    tkids=defaultdict(list)
    for l,(b,e,p) in T.items():
        if p: tkids[p].append(l)
    cache={}
    def mask(d,pre,t):
        k=(d,pre,t)
        if k not in cache:
            cache[k]=tifffile.imread(os.path.join(d,f'{pre}{t:03d}.tif'))
        return cache[k]
    for mom,ks in kids.items():
        if len(ks)!=2: continue
        a,b=ks; t=R[a][0]
        if R[b][0]!=t: continue
        m=mask(res,'mask',t); g=mask(os.path.join(gt,'TRA'),'man_track',t)
        def cover(l):
            v=g[m==l]; v=v[v>0]
            if len(v)==0: return 0
            u,c=np.unique(v,return_counts=True); return int(u[np.argmax(c)])
        ga,gb=cover(a),cover(b)
        if ga and ga==gb:
            kind='early' if T[ga][1]>=t and len(tkids.get(ga,[]))==2 else 'samecell'
        elif ga and gb and T[ga][2]==T[gb][2] and T[ga][2]!=0:
            kind='ontime' if T[ga][0]==t else ('late' if T[ga][0]<t else 'early?')
        else:
            kind='other'
        c0=contact(m,a,b); wa,La=width(m,a); wb,Lb=width(m,b)
        c1=-1
        if R[a][1]>t and R[b][1]>t:
            m1=mask(res,'mask',t+1); c1=contact(m1,a,b)
        mm=mask(res,'mask',t-1); wm,Lm=width(mm,mom)
        am=(mm==mom).sum(); aab=(m==a).sum()+(m==b).sum()
        rows.append((kind,c0,c1,round((wa+wb)/2,1),round(c0/max((wa+wb)/2,1),2),round(c1/max((wa+wb)/2,1),2), round(aab/max(am,1),2)))
print(collections.Counter(r[0] for r in rows))
print()
for tau in [0.4,0.5,0.55,0.6,0.65,0.7,0.75,0.8,0.9,1.0]:
    cnt={k:sum(1 for r in rows if r[0]==k and r[4]>=tau) for k in ['ontime','early','late','samecell','other']}
    print(tau, cnt)
print('abs contact')
for c in [3,4,5,6]:
    cnt={k:sum(1 for r in rows if r[0]==k and r[1]>=c) for k in ['ontime','early','late','samecell','other']}
    print(c, cnt)
