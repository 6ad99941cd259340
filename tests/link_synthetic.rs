//! The linker on synthetic sequences of disks: divisions, cells that touch and part, gaps, borders.
mod link_support;

use std::collections::{BTreeSet, HashMap};

use cellstream::ctc::{self, Mask};
use cellstream::link::{track_records, Descent, LinkConfig, Lineage, Linker};
use link_support::{draw_disk, match_labels, shuffle_labels, DiskSim, SimConfig};
use ndarray::Array2;
use proptest::prelude::*;

/// Links `frames` (pushed from frame 0) and returns the relabelled frames and the lineage.
fn link_all(cfg: LinkConfig, frames: &[Mask]) -> (Vec<Mask>, Lineage) {
    let mut linker = Linker::new(cfg);
    let mut out = Vec::new();
    for (t, m) in frames.iter().enumerate() {
        for (tt, r) in linker.push(t, m).unwrap() {
            assert_eq!(tt, out.len(), "frames are released in order");
            out.push(r);
        }
    }
    let (rest, lineage) = linker.finish();
    out.extend(rest.into_iter().map(|x| x.1));
    assert_eq!(out.len(), frames.len());
    (out, lineage)
}

/// Division true/false positives and misses at BC(0) (same frame), matching
/// result tracks to true tracks by majority overlap frame by frame.
fn score_divisions(sim: &DiskSim, truth: &[Mask], result: &[Mask], lineage: &Lineage) -> (usize, usize, usize) {
    let maps: Vec<HashMap<u32, u32>> = result.iter().zip(truth).map(|(r, g)| match_labels(r, g)).collect();
    let want: BTreeSet<(u32, usize, BTreeSet<u32>)> =
        sim.divisions().into_iter().map(|(m, b, d)| (m, b, d.into_iter().collect())).collect();
    let mut tp = 0;
    for (m, daughters) in lineage.divisions() {
        let b = lineage.track(daughters[0]).unwrap().begin;
        let gm = maps[b - 1].get(&m).copied().unwrap_or(0);
        let gd: BTreeSet<u32> = daughters.iter().map(|d| maps[b].get(d).copied().unwrap_or(0)).collect();
        if want.contains(&(gm, b, gd)) {
            tp += 1;
        }
    }
    let found = lineage.divisions().len();
    (tp, found - tp, want.len() - tp)
}

fn dividing_sim(seed: u64) -> SimConfig {
    SimConfig {
        shape: (300, 300),
        cells: 10,
        radius: 10.0,
        step: 1.5,
        cycle: Some((18, 30)),
        max_cells: 60,
        seed,
    }
}

#[test]
fn divisions_on_simulated_sequences_reach_bc0_precision_and_recall_of_0_9() {
    let (mut tp, mut fp, mut fneg) = (0, 0, 0);
    for seed in 1..=4 {
        let mut sim = DiskSim::new(dividing_sim(seed));
        let mut rng = fastrand::Rng::with_seed(seed);
        let truth: Vec<Mask> = (0..60).map(|_| sim.frame()).collect();
        let input: Vec<Mask> = truth.iter().map(|m| shuffle_labels(m, &mut rng)).collect();
        let (result, lineage) = link_all(LinkConfig::default(), &input);
        let (a, b, c) = score_divisions(&sim, &truth, &result, &lineage);
        println!("seed {seed}: {} true divisions; found {a} right, {b} wrong, missed {c}", sim.divisions().len());
        (tp, fp, fneg) = (tp + a, fp + b, fneg + c);
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fneg).max(1) as f64;
    println!("division precision {precision:.3}, recall {recall:.3} ({tp} right, {fp} wrong, {fneg} missed)");
    assert!(tp + fneg >= 60, "the simulation should hold many divisions, has {}", tp + fneg);
    assert!(precision >= 0.9 && recall >= 0.9, "precision {precision:.3}, recall {recall:.3}");
}

#[test]
fn no_divisions_when_switched_off() {
    let mut sim = DiskSim::new(dividing_sim(7));
    let truth: Vec<Mask> = (0..40).map(|_| sim.frame()).collect();
    assert!(!sim.divisions().is_empty());
    let (_, lineage) = link_all(LinkConfig { divisions: false, ..LinkConfig::default() }, &truth);
    assert!(lineage.divisions().is_empty());
}

/// Two disks of radius 8 approach, spend `contact` frames in contact (one
/// merged object if `merged`, else two touching objects), and part again.
/// Labels change from frame to frame as a segmenter's would.
fn touch_and_part(contact: usize, merged: bool) -> Vec<Mask> {
    let mut dists = vec![48.0, 40.0, 32.0, 24.0];
    dists.extend(std::iter::repeat_n(if merged { 14.0 } else { 17.0 }, contact));
    dists.extend([24.0, 32.0, 40.0, 48.0]);
    dists
        .iter()
        .enumerate()
        .map(|(t, d)| {
            let mut m = Array2::zeros((60, 120));
            let (la, lb) = if merged && *d < 16.0 { (5, 5) } else if t % 2 == 0 { (1, 2) } else { (9, 4) };
            draw_disk(&mut m, [30.0, 60.0 - d / 2.0], 8.0, la);
            draw_disk(&mut m, [30.0, 60.0 + d / 2.0], 8.0, lb);
            m
        })
        .collect()
}

#[test]
fn cells_that_touch_and_part_are_not_divisions() {
    for (contact, merged) in [(3, false), (1, true), (2, true), (6, true)] {
        let frames = touch_and_part(contact, merged);
        let (out, lineage) = link_all(LinkConfig::default(), &frames);
        let case = format!("{contact} frames in contact, merged: {merged}");
        assert!(lineage.divisions().is_empty(), "{case}: claimed {:?}", lineage.divisions());
        if !merged {
            assert_eq!(lineage.len(), 2, "{case}: two tracks throughout");
            continue;
        }
        // One cell continues through the merged object; the other ends at
        // the merge and resumes as its child once they part.
        let recs = track_records(&lineage);
        assert_eq!(recs.len(), 3, "{case}: {recs:?}");
        let child = recs.iter().find(|r| r.parent != 0).expect("a resumed track");
        assert_eq!(lineage.parent(child.label).unwrap().1, Descent::Resumed);
        let parent = recs.iter().find(|r| r.label == child.parent).unwrap();
        assert_eq!((parent.begin, parent.end), (0, 3), "{case}: the absorbed cell ends before the merge");
        assert_eq!(child.begin, 4 + contact, "{case}: resumed when they part");
        let continuing = recs.iter().find(|r| r.label != child.label && r.label != parent.label).unwrap();
        assert_eq!((continuing.begin, continuing.end), (0, frames.len() - 1), "{case}");
        // The merged object carries the continuing track's label.
        assert!(out[4].iter().all(|&l| l == 0 || l == continuing.label), "{case}");
    }
}

/// A disk crossing the frame left to right, missing in `missing` frames.
fn crossing_disk(missing: &[usize]) -> Vec<Mask> {
    (0..12)
        .map(|t| {
            let mut m = Array2::zeros((40, 80));
            if !missing.contains(&t) {
                draw_disk(&mut m, [20.0, 6.0 * t as f64 - 2.0], 7.0, 3 + t as u32);
            }
            m
        })
        .collect()
}

#[test]
fn a_cell_missing_for_up_to_max_gap_frames_resumes_as_a_child_track() {
    let (out, lineage) = link_all(LinkConfig::default(), &crossing_disk(&[4, 5]));
    let recs = track_records(&lineage);
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!((recs[0].begin, recs[0].end, recs[0].parent), (0, 3, 0));
    assert_eq!((recs[1].begin, recs[1].end, recs[1].parent), (6, 11, recs[0].label));
    assert_eq!(lineage.parent(recs[1].label).unwrap().1, Descent::Resumed);
    assert!(out[4].iter().all(|&l| l == 0), "no pixel is invented in missing frames");

    // Three missing frames exceed the default gap of two: a new, unrelated track.
    let recs = track_records(&link_all(LinkConfig::default(), &crossing_disk(&[4, 5, 6])).1);
    assert_eq!(recs.iter().map(|r| r.parent).collect::<Vec<_>>(), vec![0, 0]);
    // ... unless the gap allowed is longer.
    let cfg = LinkConfig { max_gap: 3, ..LinkConfig::default() };
    let recs = track_records(&link_all(cfg, &crossing_disk(&[4, 5, 6])).1);
    assert_eq!(recs[1].parent, recs[0].label);
}

#[test]
fn cells_enter_and_leave_at_the_borders_and_appear_anywhere() {
    let frames = crossing_disk(&[]);
    let mut frames: Vec<Mask> = frames;
    for m in frames.iter_mut().skip(5) {
        draw_disk(m, [32.0, 40.0], 5.0, 1000); // appears mid-frame at frame 5
    }
    let (_, lineage) = link_all(LinkConfig::default(), &frames);
    let recs = track_records(&lineage);
    // The crossing disk is cut by the borders at both ends but is one track.
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!((recs[0].begin, recs[0].end), (0, 11));
    assert_eq!((recs[1].begin, recs[1].end, recs[1].parent), (5, 11, 0));
}

#[test]
fn push_rejects_frames_out_of_order_or_of_another_size() {
    let mut linker = Linker::new(LinkConfig::default());
    linker.push(3, &Array2::zeros((4, 4))).unwrap();
    let e = linker.push(5, &Array2::zeros((4, 4))).unwrap_err();
    assert!(e.to_string().contains("frame 5 pushed after frame 3"), "{e}");
    let e = linker.push(4, &Array2::zeros((4, 5))).unwrap_err();
    assert!(e.to_string().contains("(4, 5)"), "{e}");
}

fn random_movie() -> impl Strategy<Value = Vec<Mask>> {
    (1usize..8, 8usize..20, 8usize..20).prop_flat_map(|(n, h, w)| {
        proptest::collection::vec(
            proptest::collection::vec((0u32..4, 0usize..20, 0usize..20, 1.0f64..5.0), 0..5),
            n,
        )
        .prop_map(move |frames| {
            frames
                .into_iter()
                .map(|disks| {
                    let mut m = Array2::zeros((h, w));
                    for (l, y, x, r) in disks {
                        draw_disk(&mut m, [y as f64, x as f64], r, l);
                    }
                    m
                })
                .collect()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]
    /// Whatever comes in, what goes out is a valid CTC result with the same foreground.
    #[test]
    fn any_movie_gives_a_valid_ctc_result(frames in random_movie(), gap in 0usize..3) {
        let cfg = LinkConfig { max_gap: gap, max_displacement: 6.0, ..LinkConfig::default() };
        let (out, lineage) = link_all(cfg, &frames);
        let dir = tempfile::tempdir().unwrap();
        let res = dir.path().join("01_RES");
        let w = ctc::ResultWriter::create(&res, 3).unwrap();
        for (t, (o, i)) in out.iter().zip(&frames).enumerate() {
            prop_assert_eq!(o.mapv(|l| l != 0), i.mapv(|l| l != 0));
            w.write_mask(t, o).unwrap();
        }
        w.finish(&track_records(&lineage)).unwrap();
        let v = ctc::validate_result(&res).unwrap();
        prop_assert!(v.is_empty(), "{:?}", v);
    }
}
