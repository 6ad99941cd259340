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

    let objects = mask_objects(&res, 12);
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
    let want = expected_links(&objects, &parent);
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

/// Every object of the first `n` masks of `res`, by (frame, label): its
/// centroid (x, y) and area, computed plainly.
fn mask_objects(res: &Path, n: usize) -> BTreeMap<(usize, u32), (f64, f64, u64)> {
    let mut objects = BTreeMap::new();
    for t in 0..n {
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
    objects
}

/// The links a result's objects must have, as ((frame, label), (frame,
/// label)): a track's consecutive objects, and a mother's last to each
/// daughter's first.
fn expected_links(objects: &BTreeMap<(usize, u32), (f64, f64, u64)>, parent: &BTreeMap<u32, u32>) -> BTreeSet<((usize, u32), (usize, u32))> {
    let mut want = BTreeSet::new();
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
    want
}

/// GEFF: the same cells and links as the masks and the track file, read
/// back with `zarrs` (a Zarr reader of its own), tracklets unbranched along
/// every edge and lineages shared by every edge, the axes' scale from the
/// flags; and, where the venv is, accepted by geff's own validators
/// (structure, tracklets, lineages) and read by geff into networkx.
#[test]
fn geff_holds_every_cell_and_link_and_geffs_validators_accept_it() {
    use zarrs::array::Array;
    let d = tempfile::tempdir().unwrap();
    let res = tracked(d.path());
    let out = d.path().join("tracks.zarr").join("tracks.geff");
    ok(&cellstream(&[&"export", &res, &"--geff", &out, &"--pixel-size", &"0.65um", &"--frame-interval", &"5min"]));
    let tracks = ctc::read_tracks(&res.join("res_track.txt")).unwrap();
    let parent: BTreeMap<u32, u32> = tracks.iter().map(|r| (r.label, r.parent)).collect();
    let objects = mask_objects(&res, 12);

    let store = std::sync::Arc::new(zarrs::filesystem::FilesystemStore::new(&out).unwrap());
    let read = |path: &str| -> Vec<u64> {
        let a = Array::open(store.clone(), path).unwrap();
        a.retrieve_array_subset::<Vec<u64>>(&a.subset_all()).unwrap()
    };
    let floats = |path: &str| -> Vec<f64> {
        let a = Array::open(store.clone(), path).unwrap();
        a.retrieve_array_subset::<Vec<f64>>(&a.subset_all()).unwrap()
    };
    let a = Array::open(store.clone(), "/nodes/props/t/values").unwrap();
    let t: Vec<i64> = a.retrieve_array_subset::<Vec<i64>>(&a.subset_all()).unwrap();
    let ids = read("/nodes/ids");
    let (label, area, tracklet, lineage) = (read("/nodes/props/track_id/values"), read("/nodes/props/area/values"), read("/nodes/props/tracklet_id/values"), read("/nodes/props/lineage_id/values"));
    let (x, y) = (floats("/nodes/props/x/values"), floats("/nodes/props/y/values"));
    assert_eq!(ids, (0..objects.len() as u64).collect::<Vec<_>>());
    let mut seen = BTreeSet::new();
    for i in 0..ids.len() {
        let key = (t[i] as usize, label[i] as u32);
        let (ox, oy, oa) = objects[&key];
        assert!((x[i] - ox).abs() < 1e-9 && (y[i] - oy).abs() < 1e-9 && area[i] == oa, "node {i}: {key:?}");
        seen.insert(key);
    }
    assert_eq!(seen.len(), objects.len(), "one node per object");
    let pairs = read("/edges/ids");
    let edges: Vec<(usize, usize)> = pairs.chunks(2).map(|p| (p[0] as usize, p[1] as usize)).collect();
    let key = |i: usize| (t[i] as usize, label[i] as u32);
    let got: BTreeSet<_> = edges.iter().map(|&(a, b)| (key(a), key(b))).collect();
    assert_eq!(got, expected_links(&objects, &parent));
    assert_eq!(got.len(), edges.len());
    let (mut outs, mut ins) = (vec![0; ids.len()], vec![0; ids.len()]);
    for &(a, b) in &edges {
        outs[a] += 1;
        ins[b] += 1;
    }
    let mut branches = 0;
    for &(a, b) in &edges {
        assert_eq!(lineage[a], lineage[b], "a lineage holds every edge");
        let linear = outs[a] == 1 && ins[b] == 1;
        assert_eq!(tracklet[a] == tracklet[b], linear, "tracklets are the unbranched paths: edge {a} → {b}");
        branches += usize::from(!linear);
    }
    assert!(branches > 0, "the sample divides within 12 frames");
    let attrs: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join(".zattrs")).unwrap()).unwrap();
    let axes = &attrs["geff"]["axes"];
    assert_eq!((axes[0]["name"].as_str(), axes[0]["unit"].as_str(), axes[0]["scale"].as_f64(), axes[0]["scaled_unit"].as_str()), (Some("t"), Some("frame"), Some(5.0), Some("minute")));
    assert_eq!((axes[2]["name"].as_str(), axes[2]["unit"].as_str(), axes[2]["scale"].as_f64(), axes[2]["scaled_unit"].as_str()), (Some("x"), Some("pixel"), Some(0.65), Some("micrometer")));

    // With --geff-masks, the masks too, as labels whose values are the nodes' track_id.
    let with = d.path().join("with.zarr").join("tracks.geff");
    ok(&cellstream(&[&"export", &res, &"--geff", &with, &"--geff-masks"]));
    let store = std::sync::Arc::new(zarrs::filesystem::FilesystemStore::new(&with).unwrap());
    let masks = Array::open(store, "/masks").unwrap();
    let (h, w) = ctc::read_mask(&res.join("mask000.tif")).unwrap().dim();
    assert_eq!(masks.shape(), &[12, h as u64, w as u64]);
    let all = masks.retrieve_array_subset::<Vec<u16>>(&masks.subset_all()).unwrap();
    for t in 0..12 {
        let m = ctc::read_mask(&res.join(format!("mask{t:03}.tif"))).unwrap();
        let frame = &all[t * h * w..(t + 1) * h * w];
        assert!(m.iter().zip(frame).all(|(&a, &b)| a == u32::from(b)), "frame {t}");
    }
    let attrs: serde_json::Value = serde_json::from_slice(&std::fs::read(with.join(".zattrs")).unwrap()).unwrap();
    assert_eq!(attrs["geff"]["related_objects"], serde_json::json!([{"type": "labels", "path": "masks", "node_prop": "track_id"}]));
    // The store it lies in is a Zarr group, so that Zarr readers open it.
    let store = std::sync::Arc::new(zarrs::filesystem::FilesystemStore::new(d.path().join("with.zarr")).unwrap());
    zarrs::group::Group::open(store, "/").unwrap();
    // Exported again over itself, masks and all: replaced.
    ok(&cellstream(&[&"export", &res, &"--geff", &with, &"--geff-masks"]));
    let again = d.path().join("again.geff");
    ok(&cellstream(&[&"export", &res, &"--geff", &again, &"--geff-masks"]));
    ok(&cellstream(&[&"export", &res, &"--geff", &again]));
    assert!(again.join("nodes").exists() && !again.join("masks").exists());

    // Labels past 65535 make the masks 32-bit.
    let wide = d.path().join("wide");
    std::fs::create_dir_all(&wide).unwrap();
    let mut m = ndarray::Array2::<u32>::zeros((4, 5));
    m[[1, 2]] = 70_000;
    // As another tool writes them: a 32-bit mask (cellstream's own are 16-bit, as CTC's).
    let mut enc = tiff::encoder::TiffEncoder::new(std::fs::File::create(wide.join("mask000.tif")).unwrap()).unwrap();
    enc.write_image::<tiff::encoder::colortype::Gray32>(5, 4, m.as_slice().unwrap()).unwrap();
    ctc::write_tracks(&wide.join("res_track.txt"), &[ctc::TrackRecord::new(70_000, 0, 0, 0)]).unwrap();
    let wide_geff = d.path().join("wide.geff");
    ok(&cellstream(&[&"export", &wide, &"--geff", &wide_geff, &"--geff-masks"]));
    let a = Array::open(std::sync::Arc::new(zarrs::filesystem::FilesystemStore::new(&wide_geff).unwrap()), "/masks").unwrap();
    assert_eq!(a.retrieve_array_subset::<Vec<u32>>(&a.subset_all()).unwrap(), m.iter().copied().collect::<Vec<_>>());

    // Exported again, the GEFF is replaced; a folder that is not a GEFF is refused, and left as it was.
    ok(&cellstream(&[&"export", &res, &"--geff", &out]));
    let attrs: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join(".zattrs")).unwrap()).unwrap();
    assert!(attrs["geff"]["axes"][0].get("scale").is_none(), "uncalibrated now");
    let other = d.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let napari = d.path().join("first.csv");
    let o = cellstream(&[&"export", &res, &"--napari", &napari, &"--geff", &other]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("other") && err.contains("notes.txt") && err.contains("not part of a GEFF"), "{err}");
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);
    assert!(!napari.exists(), "outputs are checked before any is written");
    // A file in a folder that does not exist, beside one that could be written: neither is.
    let o = cellstream(&[&"export", &res, &"--napari", &napari, &"--trackmate", &d.path().join("nodir/t.xml")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("nodir/t.xml") && err.contains("does not exist"), "{err}");
    assert!(!napari.exists());
    let o = cellstream(&[&"export", &res, &"--lineage", &d.path().join("l.csv"), &"--pixel-size", &"1um"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--trackmate"));

    let (Some(geff), Some(python)) = (py_support::tool("geff", "the geff check"), py_support::tool("python", "the geff check")) else {
        return;
    };
    for g in [&out, &with] {
        let o = Command::new(&geff).arg("validate").arg(g).output().unwrap();
        assert!(o.status.success(), "geff validate: {}", String::from_utf8_lossy(&o.stderr));
    }
    // geff and zarr-python find the labels, and each node's track_id at its centroid's frame in them.
    let code = "import sys, geff, zarr, numpy as np\n\
                g, meta = geff.read(sys.argv[1], backend='networkx'); z = zarr.open_group(sys.argv[1], mode='r')\n\
                m = z[meta.related_objects[0].path][:]\n\
                print(sum(int(d['track_id'] in np.unique(m[d['t']])) for _, d in g.nodes(data=True)), g.number_of_nodes())";
    let o = Command::new(&python).args(["-c", code]).arg(&with).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let n: Vec<usize> = String::from_utf8_lossy(&o.stdout).split_whitespace().map(|v| v.parse().unwrap()).collect();
    assert_eq!(n[0], n[1], "every node's track_id is a label of its frame's mask");
    let code = "import sys, geff, zarr\n\
                from geff.validate.tracks import validate_tracklets, validate_lineages\n\
                z = zarr.open_group(sys.argv[1], mode='r'); ids, e = z['nodes/ids'][:], z['edges/ids'][:]\n\
                print(validate_tracklets(ids, e, z['nodes/props/tracklet_id/values'][:]), validate_lineages(ids, e, z['nodes/props/lineage_id/values'][:]))\n\
                g, meta = geff.read(sys.argv[1], backend='networkx')\n\
                print(g.number_of_nodes(), g.number_of_edges(), sum(1 for n in g if g.out_degree(n) >= 2))";
    let o = Command::new(python).args(["-c", code]).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "(True, []) (True, [])", "geff's tracklet and lineage validators");
    let dividing = (0..ids.len()).filter(|&i| outs[i] >= 2).count();
    assert_eq!(lines[1], format!("{} {} {dividing}", objects.len(), edges.len()), "geff reads every node and edge, and the divisions");
}

/// The result's objects' intensity in `frames` (the first 12 frames of the
/// sample, or their mirror image), computed plainly: each object's values
/// sorted, by (frame, label): (mean, median, min, max, total, std).
fn plain_intensities(res: &Path, frames: &[ndarray::Array2<f32>]) -> BTreeMap<(usize, u32), [f64; 6]> {
    let mut out = BTreeMap::new();
    for (t, frame) in frames.iter().enumerate() {
        let m = ctc::read_mask(&res.join(format!("mask{t:03}.tif"))).unwrap();
        let mut values: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for (&l, &v) in m.iter().zip(frame.iter()) {
            if l != 0 {
                values.entry(l).or_default().push(f64::from(v));
            }
        }
        for (l, mut v) in values {
            v.sort_by(f64::total_cmp);
            let n = v.len();
            let total: f64 = v.iter().sum();
            let mean = total / n as f64;
            let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
            let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            out.insert((t, l), [mean, median, v[0], v[n - 1], total, std]);
        }
    }
    out
}

/// `export --raw` measures each cell in the channels asked for, in their
/// order: the napari table's columns and TrackMate's spot features hold the
/// same values, computed independently here, for a hyperstack's channels as
/// for the same frames in a folder; scikit-image's `regionprops` agrees,
/// and pytrackmate reads the features. Raw frames that do not fit the result
/// are refused by name, with nothing written.
#[test]
fn intensities_in_each_channel_asked_for_reach_napari_and_trackmate() {
    let d = tempfile::tempdir().unwrap();
    let res = tracked(d.path());
    let frames: Vec<ndarray::Array2<f32>> = (0..12).map(|t| ctc::read_frame(&d.path().join(format!("01/t{t:03}.tif"))).unwrap().to_f32()).collect();
    let flipped: Vec<ndarray::Array2<f32>> = frames.iter().map(|f| f.slice(ndarray::s![..;-1, ..]).to_owned()).collect();
    // A two-channel ImageJ hyperstack: channel 1 the frames upside down, channel 2 the frames.
    let hyper = d.path().join("two.tif");
    {
        use tiff::encoder::{colortype::Gray16, TiffEncoder};
        use tiff::tags::Tag;
        let mut enc = TiffEncoder::new(std::fs::File::create(&hyper).unwrap()).unwrap();
        for t in 0..12 {
            for f in [&flipped[t], &frames[t]] {
                let (h, w) = f.dim();
                let mut page = enc.new_image::<Gray16>(w as u32, h as u32).unwrap();
                page.encoder().write_tag(Tag::ImageDescription, "ImageJ=1.54f\nimages=24\nchannels=2\nframes=12\nhyperstack=true\n").unwrap();
                page.write_data(&f.iter().map(|&v| v as u16).collect::<Vec<_>>()).unwrap();
            }
        }
    }
    let (csv, xml) = (d.path().join("two.csv"), d.path().join("two.xml"));
    ok(&cellstream(&[&"export", &res, &"--raw", &hyper, &"--channel", &"2", &"--channel", &"1", &"--napari", &csv, &"--trackmate", &xml]));
    let (want2, want1) = (plain_intensities(&res, &frames), plain_intensities(&res, &flipped));
    let text = std::fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(header[6..9], ["mean_intensity_ch2", "median_intensity_ch2", "min_intensity_ch2"]);
    assert_eq!(header[12..], ["mean_intensity_ch1", "median_intensity_ch1", "min_intensity_ch1", "max_intensity_ch1", "total_intensity_ch1", "std_intensity_ch1"]);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    for line in text.lines().skip(1) {
        let r: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        let key = (r[1] as usize, r[0] as u32);
        for (got, want) in [(&r[6..12], want2[&key]), (&r[12..18], want1[&key])] {
            assert!(got.iter().zip(want).all(|(&g, w)| close(g, w)), "{key:?}: {got:?} against {want:?}");
        }
    }
    assert_eq!(text.lines().count() - 1, want2.len());
    // TrackMate's own feature names, declared and on every spot.
    let doc_text = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&doc_text).unwrap();
    let declared: BTreeSet<&str> = doc.descendants().filter(|n| n.has_tag_name("Feature")).filter_map(|n| n.attribute("feature")).collect();
    for f in ["MEAN_INTENSITY_CH1", "TOTAL_INTENSITY_CH2", "STD_INTENSITY_CH2", "MEDIAN_INTENSITY_CH1"] {
        assert!(declared.contains(f), "{f} is declared");
    }
    for spot in doc.descendants().filter(|n| n.has_tag_name("Spot")) {
        let key = (spot.attribute("FRAME").unwrap().parse().unwrap(), spot.attribute("CTC_LABEL").unwrap().parse().unwrap());
        let f = |name: &str| spot.attribute(name).unwrap().parse::<f64>().unwrap();
        assert!(close(f("MEAN_INTENSITY_CH2"), want2[&key][0]) && close(f("MAX_INTENSITY_CH1"), want1[&key][3]), "{key:?}");
    }
    // The frames in a folder are channel 1 of themselves: the same values as the hyperstack's channel 2.
    let gray = d.path().join("gray.csv");
    ok(&cellstream(&[&"export", &res, &"--raw", &d.path().join("01"), &"--napari", &gray]));
    let gray_text = std::fs::read_to_string(&gray).unwrap();
    let gray_rows: Vec<Vec<String>> = gray_text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect();
    let two_rows: Vec<Vec<String>> = text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_eq!(gray_text.lines().next().unwrap().split(',').nth(6), Some("mean_intensity_ch1"));
    assert_eq!(gray_rows.len(), two_rows.len());
    assert!(gray_rows.iter().zip(&two_rows).all(|(g, t)| g[..6] == t[..6] && g[6..] == t[6..12]));
    scikit_image_agrees(&res, &d.path().join("01"), &gray);
    readers_take_intensities(&xml, &want2);

    // Raw frames that do not fit the result: refused by name, nothing written.
    let out = d.path().join("refused.csv");
    let refused = |args: &[&dyn AsRef<std::ffi::OsStr>], says: &[&str]| {
        let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"export", &res, &"--napari", &out];
        all.extend_from_slice(args);
        let o = cellstream(&all);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success() && says.iter().all(|s| err.contains(s)), "{err}");
        assert!(!out.exists(), "nothing is written: {err}");
    };
    refused(&[&"--raw", &hyper], &["two.tif", "--channel 1 to 2"]);
    refused(&[&"--raw", &hyper, &"--channel", &"3"], &["two.tif", "no channel 3"]);
    refused(&[&"--raw", &hyper, &"--channel", &"1", &"--channel", &"1"], &["--channel 1 is given twice"]);
    let short = d.path().join("short");
    std::fs::create_dir(&short).unwrap();
    for t in 0..5 {
        std::fs::copy(d.path().join(format!("01/t{t:03}.tif")), short.join(format!("t{t:03}.tif"))).unwrap();
    }
    refused(&[&"--raw", &short], &["t005.tif", "has no frame 5", "mask005.tif"]);
    let small = d.path().join("small");
    std::fs::create_dir(&small).unwrap();
    for t in 0..12 {
        ctc::write_frame(&small.join(format!("t{t:03}.tif")), &ctc::Frame::U16(ndarray::Array2::zeros((10, 12)))).unwrap();
    }
    refused(&[&"--raw", &small], &["t000.tif", "12×10", "mask000.tif"]);
    // An export into the raw frames, onto the --image, or named twice: refused, the frames as they were.
    let raw = d.path().join("01");
    let frame = raw.join("t003.tif");
    let before = std::fs::read(&frame).unwrap();
    for args in [
        vec![&"--trackmate" as &dyn AsRef<std::ffi::OsStr>, &frame, &"--raw", &raw],
        vec![&"--trackmate", &frame, &"--image", &frame],
        vec![&"--lineage", &out, &"--napari", &out],
    ] {
        let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"export", &res];
        all.extend(args);
        let o = cellstream(&all);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success() && (err.contains("which this command reads") || err.contains("is named twice")), "{err}");
        assert!(!out.exists());
    }
    assert_eq!(std::fs::read(&frame).unwrap(), before);
}

/// scikit-image's `regionprops_table` on the result's masks and frames
/// gives the napari table's mean, min, max and standard deviation, and
/// numpy the median and total. Skips without the venv.
fn scikit_image_agrees(res: &Path, raw: &Path, csv: &Path) {
    let Some(py) = py_support::tool("python", "the scikit-image intensity check") else {
        return;
    };
    let code = r#"
import sys, glob, numpy as np, pandas as pd, tifffile
from skimage.measure import regionprops_table
res, raw, csv = sys.argv[1:4]
table = pd.read_csv(csv).set_index(["t", "track_id"])
worst = 0.0
for t in range(12):
    mask = tifffile.imread(f"{res}/mask{t:03d}.tif").astype(np.int64)
    frame = tifffile.imread(f"{raw}/t{t:03d}.tif").astype(np.float64)
    p = regionprops_table(mask, frame, properties=("label", "intensity_mean", "intensity_min", "intensity_max", "intensity_std"))
    for i, label in enumerate(p["label"]):
        row = table.loc[(t, label)]
        values = frame[mask == label]
        pairs = [(row.mean_intensity_ch1, p["intensity_mean"][i]), (row.min_intensity_ch1, p["intensity_min"][i]),
                 (row.max_intensity_ch1, p["intensity_max"][i]), (row.std_intensity_ch1, p["intensity_std"][i]),
                 (row.median_intensity_ch1, np.median(values)), (row.total_intensity_ch1, values.sum())]
        worst = max(worst, max(abs(a - b) / max(abs(b), 1.0) for a, b in pairs))
print(worst)
"#;
    let o = Command::new(py).args(["-c", code]).arg(res).arg(raw).arg(csv).output().unwrap();
    assert!(o.status.success(), "scikit-image: {}", String::from_utf8_lossy(&o.stderr));
    let worst: f64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert!(worst < 1e-9, "largest relative difference from scikit-image and numpy: {worst}");
}

/// pytrackmate parses every spot's features (it keeps only its own fixed
/// columns), and geff's TrackMate converter carries the intensity features
/// as node properties with their values. Skips without the venv.
fn readers_take_intensities(xml: &Path, want: &BTreeMap<(usize, u32), [f64; 6]>) {
    let (Some(py), Some(geff)) = (py_support::tool("python", "the intensity readers check"), py_support::tool("geff", "the intensity readers check")) else {
        return;
    };
    let code = "import sys; from pytrackmate import trackmate_peak_import as r; print(len(r(sys.argv[1])))";
    let o = Command::new(&py).args(["-c", code]).arg(xml).output().unwrap();
    assert!(o.status.success(), "pytrackmate: {}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim().parse::<usize>().unwrap(), want.len());
    let out = xml.with_extension("geff");
    let o = Command::new(&geff).arg("convert-trackmate-xml").arg(xml).arg(&out).output().unwrap();
    assert!(o.status.success(), "geff convert-trackmate-xml: {}", String::from_utf8_lossy(&o.stderr));
    let code = "import sys, zarr, numpy as np; z = zarr.open(sys.argv[1], mode='r'); \
                print(repr(float(np.asarray(z['nodes/props/TOTAL_INTENSITY_CH2/values']).astype(float).sum())))";
    let o = Command::new(&py).args(["-c", code]).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: f64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    let total: f64 = want.values().map(|w| w[4]).sum();
    assert!((got - total).abs() <= 1e-9 * total, "geff's TOTAL_INTENSITY_CH2 sums to {got}, against {total}");
}

/// `export --lineage` on the simulated colony's own truth (its TRA masks
/// and `man_track.txt` as a result folder): a row per track, generations
/// that count divisions, and whole cell cycles measured from the daughters'
/// first frames, as long as the simulation's cells take to divide.
#[test]
fn lineage_table_of_the_colony_truth_gives_its_cell_cycles() {
    let d = tempfile::tempdir().unwrap();
    let tra = Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences/colony/01_GT/TRA");
    let res = d.path().join("truth_RES");
    std::fs::create_dir(&res).unwrap();
    for e in std::fs::read_dir(&tra).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let to = match name.strip_prefix("man_track") {
            Some(".txt") => "res_track.txt".to_string(),
            Some(rest) => format!("mask{rest}"),
            None => continue,
        };
        std::fs::copy(e.path(), res.join(to)).unwrap();
    }
    let csv = d.path().join("lineage.csv");
    let o = cellstream(&[&"export", &res, &"--lineage", &csv]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("whole cell cycles, median"), "{}", String::from_utf8_lossy(&o.stderr));
    let tracks = ctc::read_tracks(&res.join("res_track.txt")).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("track_id,parent_track_id,lineage_id,generation,first_frame,last_frame,frames_seen,daughters,born_by_division,cycle_frames"));
    let rows: BTreeMap<u32, Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>()).map(|r| (r[0].parse().unwrap(), r)).collect();
    assert_eq!(rows.len(), tracks.len());
    let mut daughters: BTreeMap<u32, Vec<&ctc::TrackRecord>> = BTreeMap::new();
    for r in tracks.iter().filter(|r| r.parent != 0) {
        daughters.entry(r.parent).or_default().push(r);
    }
    let mut cycles = Vec::new();
    for r in &tracks {
        let row = &rows[&r.label];
        let generation: usize = row[3].parse().unwrap();
        if r.parent == 0 {
            assert_eq!(generation, 0);
        } else {
            let parent_generation: usize = rows[&r.parent][3].parse().unwrap();
            let divides = daughters[&r.parent].len() >= 2;
            assert_eq!(generation, parent_generation + usize::from(divides), "track {}", r.label);
            assert_eq!(row[8], divides.to_string());
        }
        let own = daughters.get(&r.label).map_or(0, Vec::len);
        assert_eq!(row[7], own.to_string());
        if row[9].is_empty() {
            assert!(own < 2 || row[8] == "false", "track {}: a cycle seen whole has a length", r.label);
        } else {
            let cycle: usize = row[9].parse().unwrap();
            assert_eq!(cycle, daughters[&r.label].iter().map(|d| d.begin).min().unwrap() - r.begin);
            cycles.push(cycle);
        }
    }
    assert!(cycles.len() > 50, "the colony divides often: {} whole cycles", cycles.len());
    assert!(cycles.iter().all(|&c| (4..=20).contains(&c)), "the simulated rods divide every 5 to 16 frames: {cycles:?}");
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
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("which this command reads"));
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
    refused(&res, &["res_track.txt", &format!("parent {}", f[3]), "not before the child begins"]);
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

/// A one-page 8-bit TIFF whose description and XResolution record a
/// calibration, as ImageJ or OME writes them.
fn calibrated_tiff(path: &Path, description: &str, pixels_per_unit: Option<(u32, u32)>) {
    use tiff::encoder::{colortype, Rational, TiffEncoder};
    let mut enc = TiffEncoder::new(std::fs::File::create(path).unwrap()).unwrap();
    let mut image = enc.new_image::<colortype::Gray8>(4, 3).unwrap();
    image.encoder().write_tag(tiff::tags::Tag::ImageDescription, description).unwrap();
    if let Some((n, d)) = pixels_per_unit {
        image.resolution(tiff::tags::ResolutionUnit::None, Rational { n, d });
    }
    image.write_data(&[0u8; 12]).unwrap();
}

/// A spot of a TrackMate XML file: (FRAME, POSITION_X, POSITION_T, RADIUS).
type XmlSpot = (usize, f64, f64, f64);

/// The spots of a TrackMate XML file, the model's (space, time) units and the image's pixel width.
fn spots_and_units(xml: &Path) -> (Vec<XmlSpot>, (String, String), String) {
    let text = std::fs::read_to_string(xml).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let model = doc.descendants().find(|n| n.has_tag_name("Model")).unwrap();
    let units = (model.attribute("spatialunits").unwrap().to_string(), model.attribute("timeunits").unwrap().to_string());
    let num = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    let spots = doc.descendants().filter(|n| n.has_tag_name("Spot")).map(|n| (num(&n, "FRAME") as usize, num(&n, "POSITION_X"), num(&n, "POSITION_T"), num(&n, "RADIUS"))).collect();
    let width = doc.descendants().find(|n| n.has_tag_name("ImageData")).unwrap().attribute("pixelwidth").unwrap().to_string();
    (spots, units, width)
}

/// TrackMate places spots by the calibration of the image it opens: the
/// export writes positions, radii and times in the image's units (ImageJ's
/// or OME's), or in those given by --pixel-size and --frame-interval.
#[test]
fn trackmate_positions_and_times_are_in_the_image_units() {
    let d = tempfile::tempdir().unwrap();
    let res = tracked(d.path());
    let plain = d.path().join("plain.xml");
    ok(&cellstream(&[&"export", &res, &"--trackmate", &plain]));
    let (base, units, width) = spots_and_units(&plain);
    assert_eq!((units, width.as_str()), (("pixel".to_string(), "frame".to_string()), "1.0"));
    // ImageJ: 0.65 µm a pixel (100/65 pixels a micron), 300 s a frame.
    let imagej = d.path().join("imagej.tif");
    calibrated_tiff(&imagej, "ImageJ=1.54f\nimages=12\nframes=12\nunit=micron\nfinterval=300.0\n", Some((100, 65)));
    let xml = d.path().join("imagej.xml");
    let o = cellstream(&[&"export", &res, &"--trackmate", &xml, &"--image", &imagej]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 pixel = 0.65 µm, 1 frame = 300 sec"), "{}", String::from_utf8_lossy(&o.stderr));
    let (spots, units, width) = spots_and_units(&xml);
    assert_eq!((units, width.as_str()), (("µm".to_string(), "sec".to_string()), "0.65"));
    assert_eq!(spots.len(), base.len());
    for (s, b) in spots.iter().zip(&base) {
        assert_eq!(s.0, b.0);
        assert!((s.1 - b.1 * 0.65).abs() < 1e-9 && (s.3 - b.3 * 0.65).abs() < 1e-9, "{s:?} against {b:?}");
        assert!((s.2 - 300.0 * s.0 as f64).abs() < 1e-9, "{s:?}");
    }
    // OME: PhysicalSizeX and TimeIncrement; flags override either.
    let ome = d.path().join("ome.tif");
    calibrated_tiff(&ome, r#"<OME><Image><Pixels DimensionOrder="XYZCT" PhysicalSizeX="0.5" PhysicalSizeXUnit="um" TimeIncrement="2.5" TimeIncrementUnit="min" SizeT="12"/></Image></OME>"#, None);
    let xml = d.path().join("ome.xml");
    ok(&cellstream(&[&"export", &res, &"--trackmate", &xml, &"--image", &ome, &"--frame-interval", &"90s"]));
    let (spots, units, _) = spots_and_units(&xml);
    assert_eq!(units, ("µm".to_string(), "s".to_string()));
    assert!((spots[0].1 - base[0].1 * 0.5).abs() < 1e-9 && (spots.last().unwrap().2 - 90.0 * spots.last().unwrap().0 as f64).abs() < 1e-9);
    // Given alone, on an image with no calibration (72 dpi and no unit is none).
    let bare = d.path().join("bare.tif");
    calibrated_tiff(&bare, "a plain image", Some((72, 1)));
    let xml = d.path().join("given.xml");
    ok(&cellstream(&[&"export", &res, &"--trackmate", &xml, &"--image", &bare, &"--pixel-size", &"2um"]));
    let (spots, units, _) = spots_and_units(&xml);
    assert_eq!(units, ("µm".to_string(), "frame".to_string()));
    assert!((spots[1].1 - base[1].1 * 2.0).abs() < 1e-9 && spots[1].2 == base[1].2);
    // An image that is not a TIFF, and sizes that are not positive numbers: refused, nothing written.
    let notes = d.path().join("notes.tif");
    std::fs::write(&notes, "not an image").unwrap();
    let out = d.path().join("refused.xml");
    // Sizes and times without a unit, or with one of the other kind or none known, are refused too.
    let cases: [(Vec<&dyn AsRef<std::ffi::OsStr>>, &str); 7] = [
        (vec![&"--image", &notes], "notes.tif"),
        (vec![&"--pixel-size", &"0um"], "a pixel size must be positive"),
        (vec![&"--frame-interval", &"soon"], "not a number with a unit"),
        (vec![&"--pixel-size", &"0.65"], "has no unit; give a pixel size with its unit (e.g. 0.65um)"),
        (vec![&"--frame-interval", &"5"], "e.g. 5s or 5min"),
        (vec![&"--pixel-size", &"0.65furlong"], "furlong is not a unit cellstream knows; a pixel size takes nm, µm, mm, cm, m, Å"),
        (vec![&"--pixel-size", &"0.65min"], "min is not a length"),
    ];
    for (args, says) in cases {
        let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"export", &res, &"--trackmate", &out];
        all.extend(args);
        let o = cellstream(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(says), "expected {says:?} in {err}");
        assert!(!out.exists());
    }
    // Units by their full names are taken, written short.
    ok(&cellstream(&[&"export", &res, &"--trackmate", &out, &"--pixel-size", &"0.5 micrometers", &"--frame-interval", &"2 Minutes"]));
    let xml = std::fs::read_to_string(&out).unwrap();
    assert!(xml.contains("spatialunits=\"µm\"") && xml.contains("timeunits=\"min\""), "{}", &xml[..xml.len().min(600)]);
}

/// `--image` an OME-Zarr image: its scale and units calibrate the GEFF and
/// the TrackMate XML. An image that is not here is named with a note, the
/// XML giving its folder as an absolute path all the same.
#[test]
fn an_ome_zarr_image_calibrates_the_exports() {
    let d = tempfile::tempdir().unwrap();
    let res = tracked(d.path());
    let zarr = d.path().join("image.zarr");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zarr/v05.zarr");
    std::fs::create_dir_all(zarr.join("0")).unwrap();
    let mut meta: serde_json::Value = serde_json::from_slice(&std::fs::read(fixture.join("zarr.json")).unwrap()).unwrap();
    let ms = &mut meta["attributes"]["ome"]["multiscales"][0];
    ms["axes"][0]["unit"] = "minute".into();
    ms["axes"][1]["unit"] = "micrometer".into();
    ms["axes"][2]["unit"] = "micrometer".into();
    ms["datasets"][0]["coordinateTransformations"][0]["scale"] = serde_json::json!([5.0, 0.65, 0.65]);
    std::fs::write(zarr.join("zarr.json"), serde_json::to_vec(&meta).unwrap()).unwrap();
    let geff = d.path().join("z.geff");
    let xml = d.path().join("z.xml");
    ok(&cellstream(&[&"export", &res, &"--image", &zarr, &"--geff", &geff, &"--trackmate", &xml]));
    let attrs: serde_json::Value = serde_json::from_slice(&std::fs::read(geff.join(".zattrs")).unwrap()).unwrap();
    let axes = &attrs["geff"]["axes"];
    assert_eq!((axes[0]["scale"].as_f64(), axes[0]["scaled_unit"].as_str()), (Some(5.0), Some("minute")), "{axes}");
    assert_eq!((axes[2]["scale"].as_f64(), axes[2]["scaled_unit"].as_str()), (Some(0.65), Some("micrometer")), "{axes}");
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.contains(r#"pixelwidth="0.65""#) && text.contains(r#"timeinterval="5.0""#), "{}", &text[text.find("<ImageData").unwrap()..][..300]);
    // Not here: a note, and the folder it would be in, absolute.
    let o = Command::new(env!("CARGO_BIN_EXE_cellstream")).args(["export"]).arg(&res).args(["--image", "elsewhere.tif", "--trackmate"]).arg(&xml).current_dir(d.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("elsewhere.tif does not exist here"), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&xml).unwrap();
    let folder = format!(r#"filename="elsewhere.tif" folder="{}/""#, d.path().canonicalize().unwrap().display());
    assert!(text.contains(&folder), "{}", &text[text.find("<ImageData").unwrap()..][..300]);
}

#[test]
fn nan_pixels_in_the_raw_frames_are_left_out_of_the_intensities_and_said() {
    // The frames as float with every 7th pixel NaN: each cell is measured
    // over its other pixels (a number, never NaN), with one warning.
    let d = tempfile::tempdir().unwrap();
    let res = tracked(d.path());
    let gaps = d.path().join("gaps");
    std::fs::create_dir(&gaps).unwrap();
    for t in 0..12 {
        let name = format!("t{t:03}.tif");
        let f = ctc::read_frame(&d.path().join("01").join(&name)).unwrap().to_f32();
        let mut k = 0;
        let holed = f.mapv(|v| {
            k += 1;
            if k % 7 == 0 { f32::NAN } else { v }
        });
        ctc::write_frame(&gaps.join(&name), &ctc::Frame::F32(holed)).unwrap();
    }
    let csv = d.path().join("t.csv");
    let o = cellstream(&[&"export", &res, &"--raw", &gaps, &"--napari", &csv]);
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("are NaN or infinite").count(), 1, "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.lines().count() > 12 && !text.contains("NaN"), "{}", &text[..text.len().min(500)]);
}
