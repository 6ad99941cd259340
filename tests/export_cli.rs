//! `cellstream export`: a tracked sample as napari's tracks table and a
//! TrackMate XML file, checked against the masks and the track file; bad
//! results are refused by name with nothing written.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cellstream::ctc;

mod py_support;

fn cellstream(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cellstream"));
    for a in args {
        c.arg(a);
    }
    c.output().unwrap()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The first 12 frames of the fluorescence sample (which divides), tracked into `dir/R`.
fn tracked(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences/fluo/01");
    let seq = dir.join("01");
    std::fs::create_dir_all(&seq).unwrap();
    for t in 0..12 {
        let name = format!("t{t:03}.tif");
        std::fs::copy(src.join(&name), seq.join(&name)).unwrap();
    }
    let res = dir.join("R");
    ok(&cellstream(&[&"track", &seq, &"--out", &res, &"-q"]));
    res
}

#[test]
fn napari_table_and_trackmate_xml_hold_every_cell_and_link_of_the_result() {
    let d = tempfile::tempdir().unwrap();
    let res = tracked(d.path());
    let (csv, xml) = (d.path().join("tracks.csv"), d.path().join("tracks.xml"));
    ok(&cellstream(&[&"export", &res, &"--napari", &csv, &"--trackmate", &xml]));
    let tracks = ctc::read_tracks(&res.join("res_track.txt")).unwrap();
    let parent: BTreeMap<u32, u32> = tracks.iter().map(|r| (r.label, r.parent)).collect();

    // Every object of every mask, with its centroid and area.
    let mut objects: BTreeMap<(usize, u32), (f64, f64, u64)> = BTreeMap::new();
    for t in 0..12 {
        let m = ctc::read_mask(&res.join(format!("mask{t:03}.tif"))).unwrap();
        let mut acc: BTreeMap<u32, (f64, f64, u64)> = BTreeMap::new();
        for ((y, x), &l) in m.indexed_iter() {
            if l != 0 {
                let e = acc.entry(l).or_default();
                *e = (e.0 + x as f64, e.1 + y as f64, e.2 + 1);
            }
        }
        for (l, (sx, sy, n)) in acc {
            objects.insert((t, l), (sx / n as f64, sy / n as f64, n));
        }
    }
    assert!(objects.len() > 200);

    // napari: one row per object, by track then frame, with the track's parent.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("track_id,t,y,x,area,parent_track_id"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), objects.len());
    let mut keys = Vec::new();
    for r in &rows {
        let (label, t): (u32, usize) = (r[0].parse().unwrap(), r[1].parse().unwrap());
        let (x, y, area) = objects[&(t, label)];
        assert!((r[2].parse::<f64>().unwrap() - y).abs() < 1e-9 && (r[3].parse::<f64>().unwrap() - x).abs() < 1e-9);
        assert_eq!(r[4].parse::<u64>().unwrap(), area);
        assert_eq!(r[5].parse::<u32>().unwrap(), parent[&label]);
        keys.push((label, t));
    }
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "rows are sorted by track, then frame");

    // TrackMate: the same spots; links join a track's consecutive spots and a
    // mother's last spot to each daughter's first; one track per lineage.
    let text = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "TrackMate");
    let model = root.children().find(|n| n.has_tag_name("Model")).unwrap();
    let all_spots = model.children().find(|n| n.has_tag_name("AllSpots")).unwrap();
    let spots: BTreeMap<u64, (usize, u32)> = all_spots
        .descendants()
        .filter(|n| n.has_tag_name("Spot"))
        .map(|n| (n.attribute("ID").unwrap().parse().unwrap(), (n.attribute("FRAME").unwrap().parse().unwrap(), n.attribute("CTC_LABEL").unwrap().parse().unwrap())))
        .collect();
    assert_eq!(all_spots.attribute("nspots").unwrap().parse::<usize>().unwrap(), spots.len());
    assert_eq!(spots.values().copied().collect::<BTreeSet<_>>(), objects.keys().copied().collect::<BTreeSet<_>>());
    let mut want: BTreeSet<((usize, u32), (usize, u32))> = BTreeSet::new();
    let mut frames_of: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for &(t, l) in objects.keys() {
        frames_of.entry(l).or_default().push(t);
    }
    for (l, ts) in &frames_of {
        for w in ts.windows(2) {
            want.insert(((w[0], *l), (w[1], *l)));
        }
        let p = parent[l];
        if p != 0 {
            want.insert(((*frames_of[&p].last().unwrap(), p), (ts[0], *l)));
        }
    }
    let all_tracks = model.children().find(|n| n.has_tag_name("AllTracks")).unwrap();
    let mut got = BTreeSet::new();
    let mut splits = 0;
    let track_elems: Vec<_> = all_tracks.children().filter(|n| n.has_tag_name("Track")).collect();
    for tr in &track_elems {
        splits += tr.attribute("NUMBER_SPLITS").unwrap().parse::<usize>().unwrap();
        let edges: Vec<(u64, u64)> = tr
            .children()
            .filter(|n| n.has_tag_name("Edge"))
            .map(|e| (e.attribute("SPOT_SOURCE_ID").unwrap().parse().unwrap(), e.attribute("SPOT_TARGET_ID").unwrap().parse().unwrap()))
            .collect();
        // A track's links are connected: grow from the first link.
        let mut reached: BTreeSet<u64> = [edges[0].0].into();
        for _ in 0..edges.len() {
            for &(a, b) in &edges {
                if reached.contains(&a) || reached.contains(&b) {
                    reached.extend([a, b]);
                }
            }
        }
        assert_eq!(reached.len(), edges.iter().flat_map(|&(a, b)| [a, b]).collect::<BTreeSet<_>>().len(), "a track's links are connected");
        assert_eq!(tr.attribute("NUMBER_SPOTS").unwrap().parse::<usize>().unwrap(), reached.len());
        for (a, b) in edges {
            let (sa, sb) = (spots[&a], spots[&b]);
            assert!(sa.0 < sb.0, "links go forward in time");
            got.insert((sa, sb));
        }
    }
    assert_eq!(got, want);
    let mut daughters: BTreeMap<u32, usize> = BTreeMap::new();
    for r in tracks.iter().filter(|r| r.parent != 0) {
        *daughters.entry(r.parent).or_default() += 1;
    }
    let divisions = daughters.values().filter(|&&n| n >= 2).count();
    assert!(divisions > 0, "the sample divides within 12 frames");
    assert_eq!(splits, divisions);
    let filtered = model.children().find(|n| n.has_tag_name("FilteredTracks")).unwrap();
    assert_eq!(filtered.children().filter(|n| n.has_tag_name("TrackID")).count(), track_elems.len());
    let settings = root.children().find(|n| n.has_tag_name("Settings")).unwrap();
    let image = settings.children().find(|n| n.has_tag_name("ImageData")).unwrap();
    assert_eq!(image.attribute("nframes"), Some("12"));
    pytrackmate_reads(&xml, spots.len(), track_elems.len());
    geff_converts(&xml, spots.len(), got.len());
}

/// A third reader: geff's TrackMate converter (PyPI `geff`; scripts/setup
/// installs it) turns the file into a GEFF graph that `geff validate`
/// accepts, with `spots` nodes and `links` edges. Skips without the venv.
fn geff_converts(xml: &Path, spots: usize, links: usize) {
    let (Some(geff), Some(python)) = (py_support::tool("geff", "the geff check"), py_support::tool("python", "the geff check")) else {
        return;
    };
    let out = xml.with_extension("geff");
    let o = Command::new(&geff).arg("convert-trackmate-xml").arg(xml).arg(&out).output().unwrap();
    assert!(o.status.success(), "geff convert-trackmate-xml: {}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(&geff).arg("validate").arg(&out).output().unwrap();
    assert!(o.status.success(), "geff validate: {}", String::from_utf8_lossy(&o.stderr));
    let code = "import sys, zarr; z = zarr.open(sys.argv[1], mode='r'); print(z['nodes/ids'].shape[0], z['edges/ids'].shape[0])";
    let o = Command::new(python).args(["-c", code]).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let n: Vec<usize> = String::from_utf8_lossy(&o.stdout).split_whitespace().map(|v| v.parse().unwrap()).collect();
    assert_eq!((n[0], n[1]), (spots, links), "geff reads every spot and link");
}

/// A second reader: pytrackmate (PyPI; scripts/setup installs it) finds
/// `spots` spots and, counting each spot in no track as its own, `tracks`
/// tracks plus those. Skips without the venv.
fn pytrackmate_reads(xml: &Path, spots: usize, tracks: usize) {
    let Some(py) = py_support::tool("python", "the pytrackmate check") else {
        return;
    };
    let code = "import sys; from pytrackmate import trackmate_peak_import as r; df = r(sys.argv[1], get_tracks=True); \
                print(len(df), df['label'].nunique(), int((df.groupby('label').size() == 1).sum()))";
    let o = Command::new(py).args(["-c", code]).arg(xml).output().unwrap();
    assert!(o.status.success(), "pytrackmate: {}", String::from_utf8_lossy(&o.stderr));
    let n: Vec<usize> = String::from_utf8_lossy(&o.stdout).split_whitespace().map(|v| v.parse().unwrap()).collect();
    assert_eq!(n[0], spots, "pytrackmate reads every spot");
    assert_eq!(n[1] - n[2], tracks, "and every track (besides the lone spots it numbers on their own)");
}

#[test]
fn bad_results_are_refused_by_name_and_nothing_is_written() {
    let d = tempfile::tempdir().unwrap();
    let res = tracked(d.path());
    let csv = d.path().join("tracks.csv");
    std::fs::write(&csv, "an earlier export\n").unwrap();
    let refused = |res: &Path, needle: &[&str]| {
        let o = cellstream(&[&"export", &res, &"--napari", &csv]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{err}");
        for n in needle {
            assert!(err.contains(n), "{n:?} not in: {err}");
        }
        assert_eq!(std::fs::read_to_string(&csv).unwrap(), "an earlier export\n", "the earlier file is untouched");
    };
    // Nothing asked for, or asked to write into the result folder.
    let o = cellstream(&[&"export", &res]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--napari"));
    let o = cellstream(&[&"export", &res, &"--napari", &res.join("x.csv")]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("outside the result folder"));
    assert!(!res.join("x.csv").exists());

    // A track the masks do not hold, a parent that is no track, a label the file does not list.
    let track_file = res.join("res_track.txt");
    let good = std::fs::read_to_string(&track_file).unwrap();
    std::fs::write(&track_file, format!("{good}999 3 4 0\n")).unwrap();
    refused(&res, &["res_track.txt", "track 999", "no mask holds"]);
    let first = good.lines().next().unwrap().to_string();
    let label: u32 = first.split(' ').next().unwrap().parse().unwrap();
    let orphan = good.replacen(&first, &format!("{} 77777", first.rsplit_once(' ').unwrap().0), 1);
    std::fs::write(&track_file, &orphan).unwrap();
    refused(&res, &["res_track.txt", "parent 77777"]);
    // A daughter that begins before her mother ends.
    let daughter = good.lines().find(|l| !l.ends_with(" 0")).expect("the sample divides").to_string();
    let f: Vec<u32> = daughter.split(' ').map(|v| v.parse().unwrap()).collect();
    let mother = good.lines().find(|l| l.starts_with(&format!("{} ", f[3]))).unwrap().to_string();
    let m: Vec<u32> = mother.split(' ').map(|v| v.parse().unwrap()).collect();
    let early = good.replacen(&mother, &format!("{} {} {} {}", m[0], m[1], f[1], m[3]), 1);
    std::fs::write(&track_file, &early).unwrap();
    refused(&res, &["res_track.txt", &format!("parent {}", f[3]), "must end before"]);
    let without = good.lines().filter(|l| !l.starts_with(&format!("{label} "))).collect::<Vec<_>>().join("\n") + "\n";
    std::fs::write(&track_file, &without).unwrap();
    refused(&res, &["mask000.tif", &format!("label {label}"), "does not list"]);
    std::fs::remove_file(&track_file).unwrap();
    refused(&res, &["res_track.txt"]);
    std::fs::write(&track_file, &good).unwrap();
    std::fs::write(res.join("mask005.tif"), b"II*\0not a tiff").unwrap();
    refused(&res, &["mask005.tif"]);
    refused(&d.path().join("01"), &["01", "mask"]);
}

#[test]
fn a_real_trackers_result_exports_whole() {
    let res = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ctc/Fluo-N2DL-HeLa/01_RES");
    if !res.is_dir() {
        eprintln!("skipped: {} is absent (the CTC data is not part of the project)", res.display());
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (csv, xml) = (d.path().join("hela.csv"), d.path().join("hela.xml"));
    ok(&cellstream(&[&"export", &res, &"--napari", &csv, &"--trackmate", &xml]));
    let text = std::fs::read_to_string(&csv).unwrap();
    let ids: BTreeSet<u32> = text.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    let tracks = ctc::read_tracks(&res.join("res_track.txt")).unwrap();
    assert_eq!(ids, tracks.iter().map(|r| r.label).collect::<BTreeSet<_>>(), "every track of the result, and no other");
    let rows = text.lines().count() - 1;
    assert!(rows > 5000, "92 frames of some 90 nuclei: {rows}");
    let doc_text = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&doc_text).unwrap();
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("Spot")).count(), rows);
    let roots = tracks.iter().filter(|r| r.parent == 0).count();
    let lineages = doc.descendants().filter(|n| n.has_tag_name("Track")).count();
    assert!(0 < lineages && lineages <= roots, "one TrackMate track per lineage: {lineages} of {roots} roots");
}
