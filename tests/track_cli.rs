//! `cellstream track NN`: the classical segmenter through the streaming pipeline,
//! on the bundled sample; errors mid-run leave nothing behind.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cellstream::ctc;

mod ndtiff_support;

fn cellstream(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cellstream"));
    for a in args {
        c.arg(a);
    }
    c.output().unwrap()
}

/// The first `n` frames of the bundled fluorescence sample, copied to `dir/01`.
fn sample(dir: &Path, n: usize) -> PathBuf {
    copy_frames(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences/fluo/01"), &dir.join("01"), 0..n)
}

/// Frames `times` (`tTTT.tif`) of the sequence folder `from` copied into the folder `to`.
fn copy_frames(from: &Path, to: &Path, times: impl IntoIterator<Item = usize>) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for t in times {
        let name = format!("t{t:03}.tif");
        std::fs::copy(from.join(&name), to.join(&name)).unwrap();
    }
    to.to_path_buf()
}

#[test]
fn tracks_the_sample_into_a_valid_result_with_stats() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 12);
    let stats = d.path().join("cells.csv");
    let o = cellstream(&[&"track", &seq, &"--stats", &stats]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let res = d.path().join("01_RES");
    assert_eq!(ctc::validate_result(&res).unwrap(), vec![], "the default output folder is 01_RES and valid");
    let rows = std::fs::read_to_string(&stats).unwrap();
    assert_eq!(rows.lines().count(), 13, "a header and one row a frame:\n{rows}");
    let first: Vec<&str> = rows.lines().nth(1).unwrap().split(',').collect();
    let cells: usize = first[1].parse().unwrap();
    assert!(cells >= 5, "the sample has some 24 cells, found {cells}");
    let objects = std::fs::read_to_string(d.path().join("cells.objects.csv")).unwrap();
    let per_frame0 = objects.lines().filter(|l| l.starts_with("0,")).count();
    assert_eq!(per_frame0, cells, "one centroid row per cell");
}

#[test]
fn a_corrupt_frame_mid_run_fails_fast_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 12);
    std::fs::write(seq.join("t006.tif"), b"II*\0this is not image data").unwrap();
    let stats = d.path().join("cells.csv");
    let o = cellstream(&[&"track", &seq, &"--out", &d.path().join("R"), &"--stats", &stats]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("t006.tif") && err.contains("TIFF"), "{err}");
    let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("01")], "nothing but the input is left: {left:?}");
}

#[test]
fn bad_sequences_are_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 4);
    std::fs::remove_file(seq.join("t002.tif")).unwrap();
    let o = cellstream(&[&"track", &seq]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("t002.tif is missing"));
    let o = cellstream(&[&"track", &d.path().join("02")]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("02: does not exist"));
    let good = sample(&d.path().join("b"), 2);
    let o = cellstream(&[&"track", &good, &"--out", &d.path().join("01_GT")]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("truth folder"));
}

/// A CTC dataset folder (`Fluo-N2DL-HeLa/` holding `01/`, `02/`): each
/// sequence is tracked into NN_RES beside it, exactly as on its own; flags
/// that name one sequence's output are refused with the sequences named, and
/// nothing is written.
#[test]
fn a_dataset_folder_tracks_each_sequence_into_its_own_result() {
    let d = tempfile::tempdir().unwrap();
    let dataset = d.path().join("Fluo-Sample");
    sample(&dataset, 3);
    std::fs::rename(dataset.join("01"), dataset.join("02")).unwrap();
    sample(&dataset, 4);
    let names = |dir: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    let x = d.path().join("x");
    for (flag, value) in [("--out", x.as_os_str()), ("--stats", x.as_os_str()), ("--save-probabilities", x.as_os_str()), ("--follow", "1".as_ref())] {
        let o = cellstream(&[&"track", &dataset, &"--segmenter", &"model", &flag, &value]);
        assert!(!o.status.success(), "{flag}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("Fluo-Sample: is a dataset folder holding the sequences 01, 02") && err.contains(flag) && err.contains("to write 01_RES, 02_RES beside it"), "{err}");
        assert_eq!(names(d.path()), ["Fluo-Sample"], "{flag}: nothing is written beside the input");
        assert_eq!(names(&dataset), ["01", "02"], "{flag}: nothing is written in it");
    }
    let o = cellstream(&[&"track", &dataset, &"--segmenter", &"classical"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), 2, "one summary line a sequence:\n{out}");
    assert_eq!(names(&dataset), ["01", "01_RES", "02", "02_RES"]);
    for (seq, frames) in [("01", 4), ("02", 3)] {
        let res = dataset.join(format!("{seq}_RES"));
        assert_eq!(ctc::validate_result(&res).unwrap(), vec![], "{seq}");
        let alone = d.path().join(format!("alone-{seq}"));
        let o = cellstream(&[&"track", &dataset.join(seq), &"--segmenter", &"classical", &"--out", &alone, &"-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let tracks = |r: &Path| std::fs::read_to_string(r.join("res_track.txt")).unwrap();
        assert_eq!(tracks(&res), tracks(&alone), "{seq}");
        for t in 0..frames {
            let name = format!("mask{t:03}.tif");
            assert_eq!(ctc::read_mask(&res.join(&name)).unwrap(), ctc::read_mask(&alone.join(&name)).unwrap(), "{seq} {name}");
        }
    }
}

/// Writes `frames` as one multi-page 8- or 16-bit TIFF; `description`, when
/// given, goes into each page's ImageDescription (as ImageJ writes it).
fn write_stack(path: &Path, frames: &[ctc::Frame], description: Option<&str>) {
    use tiff::encoder::{colortype, TiffEncoder};
    use tiff::tags::Tag;
    let mut enc = TiffEncoder::new(std::fs::File::create(path).unwrap()).unwrap();
    for f in frames {
        let (h, w) = f.dim();
        match f {
            ctc::Frame::U8(a) => {
                let mut page = enc.new_image::<colortype::Gray8>(w as u32, h as u32).unwrap();
                if let Some(d) = description {
                    page.encoder().write_tag(Tag::ImageDescription, d).unwrap();
                }
                page.write_data(&a.iter().copied().collect::<Vec<_>>()).unwrap();
            }
            ctc::Frame::U16(a) => {
                let mut page = enc.new_image::<colortype::Gray16>(w as u32, h as u32).unwrap();
                if let Some(d) = description {
                    page.encoder().write_tag(Tag::ImageDescription, d).unwrap();
                }
                page.write_data(&a.iter().copied().collect::<Vec<_>>()).unwrap();
            }
            ctc::Frame::F32(_) => unreachable!("the sample is integer"),
        }
    }
}

/// The first `n` frames of the bundled fluorescence sample.
fn sample_frames(n: usize) -> Vec<ctc::Frame> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences/fluo/01");
    (0..n).map(|t| ctc::read_frame(&src.join(format!("t{t:03}.tif"))).unwrap()).collect()
}

#[test]
fn a_multi_page_stack_is_tracked_exactly_as_its_frames_in_a_folder() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 8);
    let stack = d.path().join("movie.tif");
    // As Fiji saves an image sequence: one axis, called slices.
    write_stack(&stack, &sample_frames(8), Some("ImageJ=1.54f\nimages=8\nslices=8\n"));
    for segmenter in ["classical", "model"] {
        let from_folder = d.path().join(format!("folder-{segmenter}"));
        let o = cellstream(&[&"track", &seq, &"--segmenter", &segmenter, &"--out", &from_folder, &"-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = cellstream(&[&"track", &stack, &"--segmenter", &segmenter, &"-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let from_stack = d.path().join("movie_RES");
        assert_eq!(ctc::validate_result(&from_stack).unwrap(), vec![], "the default output is movie_RES beside the stack");
        let tracks = std::fs::read_to_string(from_stack.join("res_track.txt")).unwrap();
        assert!(tracks.lines().count() >= 5, "{segmenter}: {tracks}");
        assert_eq!(tracks, std::fs::read_to_string(from_folder.join("res_track.txt")).unwrap(), "{segmenter}");
        for t in 0..8 {
            let name = format!("mask{t:03}.tif");
            assert_eq!(ctc::read_mask(&from_stack.join(&name)).unwrap(), ctc::read_mask(&from_folder.join(&name)).unwrap(), "{segmenter} {name}");
        }
        std::fs::remove_dir_all(&from_stack).unwrap();
    }
}

/// Writes 16-bit `frames` as ImageJ writes a stack over 4 GB: big-endian,
/// one TIFF page (header) whose description counts the images, and the
/// pixels of every frame one after another behind it.
fn write_imagej_big_stack(path: &Path, frames: &[ctc::Frame]) {
    let (h, w) = frames[0].dim();
    let description = format!("ImageJ=1.54f\nimages={n}\nslices={n}\nloop=false\n\0", n = frames.len());
    let entries: u32 = 9;
    let text_at = 8 + 2 + 12 * entries + 4;
    let data_at = text_at + description.len() as u32;
    let mut out = b"MM\0\x2a".to_vec();
    out.extend(8u32.to_be_bytes());
    out.extend((entries as u16).to_be_bytes());
    // (tag, type, count, value): type 3 is SHORT (left-justified), 4 LONG, 2 ASCII.
    let short = |v: u16| u32::from(v) << 16;
    for (tag, kind, count, value) in [
        (256u16, 4u16, 1u32, w as u32),
        (257, 4, 1, h as u32),
        (258, 3, 1, short(16)),
        (259, 3, 1, short(1)),
        (262, 3, 1, short(1)),
        (270, 2, description.len() as u32, text_at),
        (273, 4, 1, data_at),
        (278, 4, 1, h as u32),
        (279, 4, 1, (w * h * 2) as u32),
    ] {
        out.extend(tag.to_be_bytes());
        out.extend(kind.to_be_bytes());
        out.extend(count.to_be_bytes());
        out.extend(value.to_be_bytes());
    }
    out.extend(0u32.to_be_bytes());
    out.extend(description.as_bytes());
    for f in frames {
        let ctc::Frame::U16(a) = f else { unreachable!("the fluorescence sample is 16-bit") };
        out.extend(a.iter().flat_map(|v| v.to_be_bytes()));
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn an_imagej_stack_over_4_gb_is_tracked_exactly_as_its_frames_in_a_folder() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 8);
    let stack = d.path().join("huge.tif");
    write_imagej_big_stack(&stack, &sample_frames(8));
    let from_folder = d.path().join("folder");
    let o = cellstream(&[&"track", &seq, &"--segmenter", &"classical", &"--out", &from_folder, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = cellstream(&[&"track", &stack, &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_stack = d.path().join("huge_RES");
    assert_eq!(ctc::validate_result(&from_stack).unwrap(), vec![]);
    let tracks = std::fs::read_to_string(from_stack.join("res_track.txt")).unwrap();
    assert!(tracks.lines().count() >= 5, "{tracks}");
    assert_eq!(tracks, std::fs::read_to_string(from_folder.join("res_track.txt")).unwrap());
    for t in 0..8 {
        let name = format!("mask{t:03}.tif");
        assert_eq!(ctc::read_mask(&from_stack.join(&name)).unwrap(), ctc::read_mask(&from_folder.join(&name)).unwrap(), "{name}");
    }
}

#[test]
fn bad_stacks_are_refused_with_the_file_and_page_and_nothing_is_written() {
    let d = tempfile::tempdir().unwrap();
    let frames = sample_frames(5);
    let refused = |name: &str, frames: &[ctc::Frame], description: Option<&str>, says: &[&str]| {
        let stack = d.path().join(name);
        write_stack(&stack, frames, description);
        let out = d.path().join("R");
        let o = cellstream(&[&"track", &stack, &"--segmenter", &"classical", &"--out", &out]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success() && err.contains(name) && says.iter().all(|s| err.contains(s)), "{err}");
        assert!(!out.exists(), "{name}: nothing is written");
    };
    // A page of another size half-way through: the run stops there.
    let mut odd = frames.clone();
    odd[3] = ctc::Frame::U8(ndarray::Array2::zeros((10, 12)));
    if let ctc::Frame::U16(_) = frames[0] {
        odd[3] = ctc::Frame::U16(ndarray::Array2::zeros((10, 12)));
    }
    refused("odd.tif", &odd, None, &["page 3", "12×10"]);
    refused("hyper.tif", &frames[..4], Some("ImageJ=1.54f\nimages=4\nchannels=2\nframes=2\nhyperstack=true\n"), &["2 channels × 2 time points", "--channel 1 to 2"]);
    refused("zstack.tif", &frames[..4], Some("ImageJ=1.54f\nimages=4\nslices=2\nframes=2\nhyperstack=true\n"), &["2 z slices × 2 time points", "--project max"]);
    // An ImageJ stack over 4 GB (one TIFF page, the rest raw behind it) cut short.
    refused("huge.tif", &frames[..1], Some("ImageJ=1.54f\nimages=3000\nslices=3000\n"), &["3000 images", "in one TIFF page", "ends after 1 of them", "cut short"]);
    std::fs::write(d.path().join("cut.tif"), &std::fs::read(d.path().join("odd.tif")).unwrap()[..300]).unwrap();
    let o = cellstream(&[&"track", &d.path().join("cut.tif"), &"--out", &d.path().join("R")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("cut.tif"), "{err}");
    assert!(!d.path().join("R").exists());
}

/// The bundled sample as channel 2 of a two-channel time-lapse whose
/// channel 1 is the sample turned upside down (other cells in other places).
fn two_channel_frames(n: usize) -> Vec<[ctc::Frame; 2]> {
    sample_frames(n).into_iter().map(|f| [upside_down(&f), f]).collect()
}

/// A 16-bit frame turned upside down: other cells in other places.
fn upside_down(f: &ctc::Frame) -> ctc::Frame {
    let ctc::Frame::U16(a) = f else { unreachable!("the fluorescence sample is 16-bit") };
    let mut flipped = a.clone();
    flipped.invert_axis(ndarray::Axis(0));
    ctc::Frame::U16(flipped.as_standard_layout().to_owned())
}

/// The first `n` frames of the sample in `dir/01`, and the classical
/// segmenter's result for them in `dir/alone`, to compare other inputs with.
fn sample_tracked_alone(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let seq = sample(dir, n);
    let alone = dir.join("alone");
    let o = cellstream(&[&"track", &seq, &"--segmenter", &"classical", &"--out", &alone, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (seq, alone)
}

#[test]
fn one_channel_of_a_hyperstack_or_of_frame_files_is_tracked_as_that_channel_alone() {
    let d = tempfile::tempdir().unwrap();
    let n = 6;
    let (seq, alone) = sample_tracked_alone(d.path(), n);
    let same_result = |res: &Path| assert_same_result(res, &alone, n);
    // A Fiji hyperstack: the two channels of each time point, one after the other.
    let pages: Vec<ctc::Frame> = two_channel_frames(n).into_iter().flatten().collect();
    let hyper = d.path().join("hyper.tif");
    write_stack(&hyper, &pages, Some(&format!("ImageJ=1.54f\nimages={}\nchannels=2\nframes={n}\nhyperstack=true\n", 2 * n)));
    let res = d.path().join("hyper_RES");
    let o = cellstream(&[&"track", &hyper, &"--channel", &"2", &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    same_result(&res);
    assert!(std::fs::read_to_string(res.join(ctc::RUN_RECORD)).unwrap().contains("channel = 2"), "the run record names the channel");
    // Channel 1 is another time-lapse.
    let other = d.path().join("other");
    let o = cellstream(&[&"track", &hyper, &"--channel", &"1", &"--segmenter", &"classical", &"--out", &other, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_ne!(ctc::read_mask(&other.join("mask000.tif")).unwrap(), ctc::read_mask(&alone.join("mask000.tif")).unwrap());
    // A folder of frame files, each holding one page a channel.
    let files = write_frame_files(&d.path().join("two-page/01"), &two_channel_frames(n));
    let from_files = d.path().join("from-files");
    let o = cellstream(&[&"track", &files, &"--channel", &"2", &"--segmenter", &"classical", &"--out", &from_files, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    same_result(&from_files);
    // render draws over the channel it is given, as over the frames alone.
    let over_hyper = first_overlay(&alone, &hyper, &["--channel", "2"], &d.path().join("over-hyper"));
    assert_eq!(over_hyper, first_overlay(&alone, &seq, &[], &d.path().join("over-folder")));
    // With no channel named, or one the frames lack, nothing is written.
    for (input, channel, says) in [(&hyper, None, "--channel 1 to 2"), (&hyper, Some("3"), "no channel 3"), (&files, None, "--channel picks one"), (&files, Some("3"), "no channel 3")] {
        let out = d.path().join("refused");
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"track", input, &"--segmenter", &"classical", &"--out", &out];
        if let Some(c) = &channel {
            args.extend([&"--channel" as &dyn AsRef<std::ffi::OsStr>, c]);
        }
        let o = cellstream(&args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success() && err.contains(says), "{}: {err}", input.display());
        assert!(!out.exists(), "{}: nothing is written", input.display());
    }
}

/// Frame files `dir/tTTT.tif`, frame t holding the pages `frames[t]`; returns `dir`.
fn write_frame_files<const K: usize>(dir: &Path, frames: &[[ctc::Frame; K]]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for (t, pages) in frames.iter().enumerate() {
        write_stack(&dir.join(format!("t{t:03}.tif")), pages, None);
    }
    dir.to_path_buf()
}

/// `render --res RES --raw RAW EXTRA... --out OUT`, and the first overlay it draws.
fn first_overlay(res: &Path, raw: &Path, extra: &[&str], out: &Path) -> Vec<u8> {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"render", &"--res", &res, &"--raw", &raw, &"--out", &out];
    args.extend(extra.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(out.join("overlays/overlay000.png")).unwrap()
}

/// Whether result `res` holds the same `n` masks and track file as `alone`.
fn assert_same_result(res: &Path, alone: &Path, n: usize) {
    assert_eq!(std::fs::read_to_string(res.join("res_track.txt")).unwrap(), std::fs::read_to_string(alone.join("res_track.txt")).unwrap());
    for t in 0..n {
        let name = format!("mask{t:03}.tif");
        assert_eq!(ctc::read_mask(&res.join(&name)).unwrap(), ctc::read_mask(&alone.join(&name)).unwrap(), "{}", res.display());
    }
}

/// A Micro-Manager 1.4 folder: one file a channel and time point,
/// `img_TTTTTTTTT_CHANNEL_000.tif`, the sample as DAPI and the sample upside
/// down as GFP; and Cellpose's masks of the DAPI frames beside them
/// (`..._cp_masks.tif`).
#[test]
fn frames_named_by_a_pattern_are_tracked_as_those_frames_alone() {
    let d = tempfile::tempdir().unwrap();
    let n = 6;
    let (seq, alone) = sample_tracked_alone(d.path(), n);
    let mm = d.path().join("pos0");
    std::fs::create_dir_all(&mm).unwrap();
    for (t, [gfp, dapi]) in two_channel_frames(n).iter().enumerate() {
        ctc::write_frame(&mm.join(format!("img_{t:09}_DAPI_000.tif")), dapi).unwrap();
        ctc::write_frame(&mm.join(format!("img_{t:09}_GFP_000.tif")), gfp).unwrap();
        ctc::write_mask(&mm.join(format!("img_{t:09}_DAPI_000_cp_masks.tif")), &ctc::read_mask(&alone.join(format!("mask{t:03}.tif"))).unwrap()).unwrap();
    }
    // The folder alone: every file's last number is 0, and the message says how to name the frames.
    let o = cellstream(&[&"track", &mm, &"--segmenter", &"classical", &"--out", &d.path().join("refused")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("has the same frame number 0") && err.contains("img_{t}_DAPI_000.tif"), "{err}");
    assert!(!d.path().join("refused").exists());
    let dapi = mm.join("img_{t}_DAPI_000.tif");
    let o = cellstream(&[&"track", &dapi, &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&mm.join("img_DAPI_000_RES"), &alone, n);
    // The masks by a pattern too, linked as the sample's own masks are.
    let o = cellstream(&[&"track", &"--masks", &mm.join("img_{t}_DAPI_000_cp_masks.tif"), &"--out", &d.path().join("linked"), &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let relinked = d.path().join("relinked");
    let o = cellstream(&[&"track", &"--masks", &alone, &"--out", &relinked, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&d.path().join("linked"), &relinked, n);
    // render draws over the pattern's frames as over the folder.
    assert_eq!(first_overlay(&alone, &dapi, &[], &d.path().join("over-pattern")), first_overlay(&alone, &seq, &[], &d.path().join("over-folder")));
    // Patterns that match two files a time point, none, or lack {t}: refused by name, nothing written.
    for (pattern, says) in [
        ("img_{t}_*_000.tif", "matches two files of time point 0"),
        ("img_{t}_RFP_000.tif", "matches no file"),
        ("img_{t}_DAPI_{c}.tif", "starts neither {t} nor {z}"),
        ("img_*_DAPI_{z}.tif", "holds no {t}"),
        ("img_{t}_{t}.tif", "twice"),
    ] {
        let out = d.path().join("refused");
        let o = cellstream(&[&"track", &mm.join(pattern), &"--segmenter", &"classical", &"--out", &out]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(pattern) && err.contains(says), "{pattern}: {err}");
        assert!(!out.exists(), "{pattern}: nothing is written");
    }
}

/// The bundled sample as the brightest of three z slices of each time point
/// (the others dimmer copies of it).
fn z_slices(n: usize) -> Vec<[ctc::Frame; 3]> {
    sample_frames(n)
        .into_iter()
        .map(|f| {
            let ctc::Frame::U16(a) = &f else { unreachable!("the fluorescence sample is 16-bit") };
            let (below, above) = (ctc::Frame::U16(a / 2), ctc::Frame::U16(a / 3));
            [below, f, above]
        })
        .collect()
}

#[test]
fn z_stacks_over_time_are_tracked_as_their_projection() {
    let d = tempfile::tempdir().unwrap();
    let n = 6;
    let (seq, alone) = sample_tracked_alone(d.path(), n);
    // A CTC 3D sequence: frame files whose pages are z slices.
    let files = write_frame_files(&d.path().join("3d/01"), &z_slices(n));
    let from_files = d.path().join("from-files");
    let o = cellstream(&[&"track", &files, &"--project", &"max", &"--segmenter", &"classical", &"--out", &from_files, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&from_files, &alone, n);
    assert!(std::fs::read_to_string(from_files.join(ctc::RUN_RECORD)).unwrap().contains("project = \"max\""), "the run record names the projection");
    // A Fiji hyperstack of two channels × three z slices over time, the
    // sample in channel 2; channel 1 holds the slices upside down.
    let mut pages = Vec::new();
    for slices in z_slices(n) {
        for z in slices {
            pages.extend([upside_down(&z), z]);
        }
    }
    let hyper = d.path().join("hyper.tif");
    write_stack(&hyper, &pages, Some(&format!("ImageJ=1.54f\nimages={}\nchannels=2\nslices=3\nframes={n}\nhyperstack=true\n", 6 * n)));
    let o = cellstream(&[&"track", &hyper, &"--channel", &"2", &"--project", &"max", &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&d.path().join("hyper_RES"), &alone, n);
    // The sample is slice 2: that slice alone is the sample.
    let slice2 = d.path().join("slice2");
    let o = cellstream(&[&"track", &files, &"--project", &"max", &"--slices", &"2", &"--segmenter", &"classical", &"--out", &slice2, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&slice2, &alone, n);
    // The mean of the slices is another image, tracked all the same.
    let mean = d.path().join("mean");
    let o = cellstream(&[&"track", &files, &"--project", &"mean", &"--segmenter", &"classical", &"--out", &mean, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(ctc::validate_result(&mean).unwrap(), vec![]);
    // render and export read the projection as track does.
    let over_hyper = first_overlay(&alone, &hyper, &["--channel", "2", "--project", "max"], &d.path().join("over-hyper"));
    assert_eq!(over_hyper, first_overlay(&alone, &seq, &[], &d.path().join("over-folder")));
    let table = |raw: &Path, extra: &[&str], out: &str| {
        let out = d.path().join(out);
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"export", &alone, &"--raw", &raw, &"--napari", &out];
        args.extend(extra.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
        let o = cellstream(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(out).unwrap()
    };
    assert_eq!(table(&files, &["--project", "max"], "z.csv"), table(&seq, &[], "folder.csv"));
    // Without --project, with a channel the slices lack, or with --masks: refused, nothing written.
    for (args, says) in [
        (vec!["track", files.to_str().unwrap()], "--project max"),
        (vec!["track", hyper.to_str().unwrap(), "--channel", "2"], "--project max"),
        (vec!["track", hyper.to_str().unwrap(), "--project", "max"], "--channel 1 to 2"),
        (vec!["track", files.to_str().unwrap(), "--project", "max", "--channel", "2"], "no channel 2"),
        (vec!["track", seq.to_str().unwrap(), "--project", "sum"], "not a projection"),
        (vec!["track", files.to_str().unwrap(), "--slices", "2"], "--project"),
        (vec!["track", files.to_str().unwrap(), "--project", "max", "--slices", "2-4"], "has 3 z slices"),
        (vec!["track", "--masks", alone.to_str().unwrap(), "--project", "max"], "--project"),
    ] {
        let out = d.path().join("refused");
        let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = args.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>).collect();
        all.extend([&"--out" as &dyn AsRef<std::ffi::OsStr>, &out]);
        let o = cellstream(&all);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success() && err.contains(says), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: nothing is written");
    }
}

/// Float frames whose left columns hold no data (NaN, as registration
/// leaves them; one pixel infinite) track as the same frames with those
/// pixels set to each frame's median, with one warning; they used to give
/// no cell at all.
#[test]
fn nan_pixels_are_taken_as_background_with_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let (with_nan, filled) = (d.path().join("nan/01"), d.path().join("filled/01"));
    std::fs::create_dir_all(&with_nan).unwrap();
    std::fs::create_dir_all(&filled).unwrap();
    for (t, f) in sample_frames(5).iter().enumerate() {
        let mut a = f.to_f32();
        a.slice_mut(ndarray::s![.., ..40]).fill(f32::NAN);
        a[(100, 100)] = f32::INFINITY;
        ctc::write_frame(&with_nan.join(format!("t{t:03}.tif")), &ctc::Frame::F32(a.clone())).unwrap();
        let mut finite: Vec<f32> = a.iter().copied().filter(|v| v.is_finite()).collect();
        finite.sort_by(f32::total_cmp);
        let n = finite.len();
        let median = if n % 2 == 1 { finite[n / 2] } else { (finite[n / 2 - 1] + finite[n / 2]) / 2.0 };
        a.mapv_inplace(|v| if v.is_finite() { v } else { median });
        ctc::write_frame(&filled.join(format!("t{t:03}.tif")), &ctc::Frame::F32(a)).unwrap();
    }
    for segmenter in ["classical", "model"] {
        let (a, b) = (d.path().join(format!("a-{segmenter}")), d.path().join(format!("b-{segmenter}")));
        let o = cellstream(&[&"track", &with_nan, &"--segmenter", &segmenter, &"--out", &a]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{err}");
        assert_eq!(err.matches("warning: frame 0: 10241 pixels are NaN or infinite").count(), 1, "one warning: {err}");
        let o = cellstream(&[&"track", &filled, &"--segmenter", &segmenter, &"--out", &b, &"-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(std::fs::read_to_string(a.join("res_track.txt")).unwrap(), std::fs::read_to_string(b.join("res_track.txt")).unwrap());
        for t in 0..5 {
            let name = format!("mask{t:03}.tif");
            let m = ctc::read_mask(&a.join(&name)).unwrap();
            assert_eq!(m, ctc::read_mask(&b.join(&name)).unwrap(), "{segmenter} {name}");
            assert!(m.iter().filter(|&&l| l != 0).count() > 1000, "{segmenter} {name}: cells are found");
        }
    }
    let o = cellstream(&[&"track", &with_nan, &"--segmenter", &"classical", &"--out", &d.path().join("q"), &"-q"]);
    assert!(o.status.success() && o.stderr.is_empty(), "-q prints nothing: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn render_draws_over_a_stack_as_over_its_frames_in_a_folder() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 6);
    let stack = d.path().join("movie.tif");
    write_stack(&stack, &sample_frames(6), None);
    let res = d.path().join("R");
    let o = cellstream(&[&"track", &stack, &"--segmenter", &"classical", &"--out", &res, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let render = |raw: &Path, out: &str| {
        let out = d.path().join(out);
        let o = cellstream(&[&"render", &"--res", &res, &"--raw", &raw, &"--out", &out]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let (from_stack, from_folder) = (render(&stack, "over-stack"), render(&seq, "over-folder"));
    for t in 0..6 {
        let name = format!("overlays/overlay{t:03}.png");
        assert_eq!(std::fs::read(from_stack.join(&name)).unwrap(), std::fs::read(from_folder.join(&name)).unwrap(), "{name}");
    }
    // A stack with fewer pages than the result has frames is named, and nothing is drawn.
    let short = d.path().join("short.tif");
    write_stack(&short, &sample_frames(4), None);
    let out = d.path().join("over-short");
    let o = cellstream(&[&"render", &"--res", &res, &"--raw", &short, &"--out", &out]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("short.tif") && err.contains("has 4 pages"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_label_stack_links_as_its_masks_in_a_folder() {
    let d = tempfile::tempdir().unwrap();
    let tra = Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences/fluo/01_GT/TRA");
    let folder = d.path().join("labels");
    std::fs::create_dir(&folder).unwrap();
    let mut pages = Vec::new();
    for t in 0..10 {
        let name = format!("man_track{t:03}.tif");
        std::fs::copy(tra.join(&name), folder.join(&name)).unwrap();
        pages.push(ctc::Frame::U16(ctc::read_mask(&tra.join(&name)).unwrap().mapv(|l| l as u16)));
    }
    let stack = d.path().join("labels.tif");
    write_stack(&stack, &pages, None);
    let link = |input: &Path, out: &str| {
        let out = d.path().join(out);
        let o = cellstream(&[&"track", &"--masks", &input, &"--out", &out, &"-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let (a, b) = (link(&folder, "from-folder"), link(&stack, "from-stack"));
    // A span of the stack, as the same span of the folder; the pages before it are not read.
    for (input, out) in [(&folder, "span-folder"), (&stack, "span-stack")] {
        let o = cellstream(&[&"track", &"--masks", input, &"--frames", &"3-6", &"--out", &d.path().join(out), &"-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(std::fs::read_to_string(d.path().join("span-folder/res_track.txt")).unwrap(), std::fs::read_to_string(d.path().join("span-stack/res_track.txt")).unwrap());
    let tracks = std::fs::read_to_string(a.join("res_track.txt")).unwrap();
    assert!(tracks.lines().count() >= 20, "{tracks}");
    assert_eq!(tracks, std::fs::read_to_string(b.join("res_track.txt")).unwrap());
    for t in 0..10 {
        let name = format!("mask{t:03}.tif");
        assert_eq!(ctc::read_mask(&a.join(&name)).unwrap(), ctc::read_mask(&b.join(&name)).unwrap(), "{name}");
    }
}

#[test]
fn exclude_on_edges_leaves_no_cell_on_the_frame_edge_and_is_recorded() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 4);
    let run = |name: &str, extra: &[&str]| -> Vec<ctc::Mask> {
        let out = d.path().join(name);
        // Backdating a division splits an object in one run and perhaps not
        // in the other: off, so that only the cut cells differ.
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"track", &seq, &"--out", &out, &"-q", &"--backdate-divisions", &"off"];
        for e in extra {
            args.push(e);
        }
        let o = cellstream(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(ctc::validate_result(&out).unwrap(), vec![], "{name} is a valid result");
        let record = std::fs::read_to_string(out.join("cellstream.toml")).unwrap();
        let want = format!("exclude_on_edges = {}", !extra.is_empty());
        assert!(record.contains(&want), "{want} not in\n{record}");
        (0..4).map(|t| ctc::read_mask(&out.join(format!("mask{t:03}.tif"))).unwrap()).collect()
    };
    let (all, inner) = (run("all", &[]), run("inner", &["--exclude-on-edges"]));
    let count = |m: &ctc::Mask| m.iter().filter(|&&l| l != 0).collect::<std::collections::BTreeSet<_>>().len();
    let cut: usize = all.iter().map(|m| cellstream::post::border_labels(m.view(), 0).len()).sum();
    assert!(cut > 0, "the sample has cells on its edge");
    for (a, i) in all.iter().zip(&inner) {
        assert!(cellstream::post::border_labels(i.view(), 0).is_empty(), "a kept cell touches the edge");
        assert_eq!(count(i), count(a) - cellstream::post::border_labels(a.view(), 0).len(), "only the cut cells go");
    }
}

#[test]
fn frames_numbered_by_another_tool_are_a_sequence_but_masks_are_not() {
    let d = tempfile::tempdir().unwrap();
    let src = sample(d.path(), 4);
    // Fiji-style names, numbered from 1 without padding.
    let seq = d.path().join("exported");
    std::fs::create_dir_all(&seq).unwrap();
    for t in 0..4 {
        std::fs::copy(src.join(format!("t{t:03}.tif")), seq.join(format!("img_{}.tif", t + 1))).unwrap();
    }
    let o = cellstream(&[&"track", &seq, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let res = d.path().join("exported_RES");
    assert_eq!(ctc::validate_result(&res).unwrap(), vec![]);
    assert!(res.join("mask001.tif").is_file() && res.join("mask004.tif").is_file() && !res.join("mask000.tif").exists());
    // The same cells as the CTC-named frames give.
    let ctc_named = d.path().join("R");
    assert!(cellstream(&[&"track", &src, &"--out", &ctc_named, &"-q"]).status.success());
    for t in 0..4 {
        let a = ctc::read_mask(&ctc_named.join(format!("mask{t:03}.tif"))).unwrap();
        let b = ctc::read_mask(&res.join(format!("mask{:03}.tif", t + 1))).unwrap();
        assert_eq!(a.mapv(|v| v != 0), b.mapv(|v| v != 0));
    }
    // A gap, and a result folder given as frames, are refused by name.
    std::fs::remove_file(seq.join("img_3.tif")).unwrap();
    let o = cellstream(&[&"track", &seq, &"--out", &d.path().join("gap"), &"-q"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("no frame 3 between img_2.tif and img_4.tif"), "{err}");
    let o = cellstream(&[&"track", &res, &"--out", &d.path().join("masks"), &"-q"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("not raw frames") && err.contains("--masks"), "{err}");
    assert!(!d.path().join("gap").exists() && !d.path().join("masks").exists());
}

/// `track --follow SECONDS` on `dir` with the classical segmenter and the
/// flags `extra`, started in the background.
fn follow(dir: &Path, out: &Path, seconds: &str, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_cellstream"))
        .args(["track", "--segmenter", "classical", "-q", "--follow", seconds, "--out"])
        .arg(out)
        .arg(dir)
        .args(extra)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn follow_reads_frames_as_a_live_acquisition_writes_them() {
    let d = tempfile::tempdir().unwrap();
    let full = sample(d.path(), 6);
    // The acquisition has not begun when track starts: the folder is empty.
    let live = d.path().join("live");
    std::fs::create_dir_all(&live).unwrap();
    let res = d.path().join("R");
    let child = follow(&live, &res, "3", &[]);
    let pause = |ms| std::thread::sleep(std::time::Duration::from_millis(ms));
    for t in 0..2 {
        pause(300);
        std::fs::copy(full.join(format!("t{t:03}.tif")), live.join(format!("t{t:03}.tif"))).unwrap();
    }
    pause(400);
    // Frame 2 is written in two goes, as a slow writer would.
    let bytes = std::fs::read(full.join("t002.tif")).unwrap();
    std::fs::write(live.join("t002.tif"), &bytes[..bytes.len() / 2]).unwrap();
    pause(300);
    std::fs::write(live.join("t002.tif"), &bytes).unwrap();
    for t in 3..6 {
        pause(250);
        std::fs::copy(full.join(format!("t{t:03}.tif")), live.join(format!("t{t:03}.tif"))).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The same result as the finished folder gives.
    let whole = d.path().join("W");
    assert!(cellstream(&[&"track", &"--segmenter", &"classical", &"-q", &"--out", &whole, &full]).status.success());
    for t in 0..6 {
        let name = format!("mask{t:03}.tif");
        assert_eq!(ctc::read_mask(&res.join(&name)).unwrap(), ctc::read_mask(&whole.join(&name)).unwrap(), "{name}");
    }
    assert!(!res.join("mask006.tif").exists());
    assert_eq!(std::fs::read_to_string(res.join("res_track.txt")).unwrap(), std::fs::read_to_string(whole.join("res_track.txt")).unwrap());
    assert!(std::fs::read_to_string(res.join("cellstream.toml")).unwrap().contains("follow_seconds = 3.0"));

    // A frame that never comes while a later one does is a gap; nothing is written.
    let live2 = d.path().join("live2");
    std::fs::create_dir_all(&live2).unwrap();
    for t in 0..2 {
        std::fs::copy(full.join(format!("t{t:03}.tif")), live2.join(format!("t{t:03}.tif"))).unwrap();
    }
    let gap = d.path().join("gap");
    let child = follow(&live2, &gap, "2", &[]);
    // Frame 3 must come after track has listed the folder (else the listing
    // itself finds the gap, a different error): the staged result folder
    // appears once the frames are being followed.
    let staged = d.path().join(format!(".gap.partial-{}", child.id()));
    let start = std::time::Instant::now();
    while !staged.exists() {
        assert!(start.elapsed().as_secs() < 60, "track --follow did not start");
        pause(20);
    }
    std::fs::copy(full.join("t003.tif"), live2.join("t003.tif")).unwrap();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("no frame 2 came") && err.contains("t003.tif"), "{err}");
    assert!(!gap.exists());
    // --follow is for folders, and needs a positive time.
    let o = cellstream(&[&"track", &"--follow", &"0", &live]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("positive number of seconds"));
    let o = cellstream(&[&"track", &"--follow", &"1", &"--out", &gap, &full.join("t000.tif")]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--follow reads a folder"));
}

/// A live Micro-Manager acquisition, followed by a pattern: each time
/// point's GFP and DAPI files land one after the other, and only the DAPI
/// frames are tracked, to the result of those frames alone.
#[test]
fn follow_reads_the_files_a_pattern_names_as_they_land() {
    let d = tempfile::tempdir().unwrap();
    let n = 4;
    let (_, alone) = sample_tracked_alone(d.path(), n);
    let live = d.path().join("pos0");
    std::fs::create_dir_all(&live).unwrap();
    let res = d.path().join("R");
    let child = follow(&live.join("img_{t}_DAPI_000.tif"), &res, "3", &[]);
    for (t, [gfp, dapi]) in two_channel_frames(n).iter().enumerate() {
        std::thread::sleep(std::time::Duration::from_millis(300));
        ctc::write_frame(&live.join(format!("img_{t:09}_GFP_000.tif")), gfp).unwrap();
        ctc::write_frame(&live.join(format!("img_{t:09}_DAPI_000.tif")), dapi).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&res, &alone, n);
    assert!(!res.join(format!("mask{n:03}.tif")).exists());
}

/// A live Micro-Manager acquisition of z-stacks, one file a slice, followed
/// by a pattern with `{z}`: each time point is projected once it is whole,
/// to the result of the finished frames alone. An acquisition that stops
/// partway through a time point is refused, naming it, with nothing written.
#[test]
fn follow_gathers_each_time_points_z_slices_as_they_land() {
    let d = tempfile::tempdir().unwrap();
    let n = 4;
    let (_, alone) = sample_tracked_alone(d.path(), n);
    let name = |t: usize, z: usize| format!("img_channel000_position000_time{t:09}_z{z:03}.tif");
    let pattern = "img_channel000_position000_time{t}_z{z}.tif";
    let live = d.path().join("pos0");
    std::fs::create_dir_all(&live).unwrap();
    let res = d.path().join("R");
    let child = follow(&live.join(pattern), &res, "3", &["--project", "max"]);
    let stacks = z_slices(n);
    for (t, slices) in stacks.iter().enumerate() {
        for (z, slice) in slices.iter().enumerate() {
            std::thread::sleep(std::time::Duration::from_millis(120));
            ctc::write_frame(&live.join(name(t, z)), slice).unwrap();
        }
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&res, &alone, n);
    assert!(!res.join(format!("mask{n:03}.tif")).exists());

    // Stopped after two of time point 2's three slices.
    let cut = d.path().join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    for (t, slices) in stacks.iter().enumerate().take(3) {
        for (z, slice) in slices.iter().enumerate().take(if t == 2 { 2 } else { 3 }) {
            ctc::write_frame(&cut.join(name(t, z)), slice).unwrap();
        }
    }
    let out = d.path().join("cutR");
    let o = follow(&cut.join(pattern), &out, "1", &["--project", "max"]).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && ["gives time point 2 2 z slice(s)", "time point 0 3", "no slice came for 1.0 s"].iter().all(|s| err.contains(s)), "{err}");
    assert!(!out.exists());
}

/// `track --segmenter classical -q FLAGS --out RES LIVE` started on the
/// empty folder `live`, which an NDTiff writer fills after `before_ms`, an
/// image every `gap_ms`, as an acquisition does; the run must succeed.
fn follow_ndtiff_while_written(live: &Path, res: &Path, flags: &[&str], images: &[(serde_json::Value, ctc::Frame)], before_ms: u64, gap_ms: u64) {
    std::fs::create_dir_all(live).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_cellstream"))
        .args(["track", "--segmenter", "classical", "-q"])
        .args(flags)
        .arg("--out")
        .arg(res)
        .arg(live)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(before_ms));
    let mut writer = ndtiff_support::NdTiffWriter::new(live);
    for (axes, image) in images {
        std::thread::sleep(std::time::Duration::from_millis(gap_ms));
        writer.add(axes, image);
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A Micro-Manager 2 NDTiff acquisition: channels GFP (the slices upside
/// down) then DAPI (the sample as slice 2 of 3), time by time and slice by
/// slice as Micro-Manager writes them, tracked by its index to exactly the
/// result of the sample frames, also while it is written (--follow); render
/// draws on it.
#[test]
fn an_ndtiff_acquisition_is_tracked_by_its_index() {
    let d = tempfile::tempdir().unwrap();
    let n = 5;
    let (seq, alone) = sample_tracked_alone(d.path(), n);
    let mut images = Vec::new();
    for (t, slices) in z_slices(n).iter().enumerate() {
        for (z, slice) in slices.iter().enumerate() {
            images.push((serde_json::json!({"time": t, "z": z, "channel": "GFP"}), upside_down(slice)));
            images.push((serde_json::json!({"time": t, "z": z, "channel": "DAPI"}), slice.clone()));
        }
    }
    let acq = d.path().join("acq_1");
    ndtiff_support::write_ndtiff(&acq, &images);
    let o = cellstream(&[&"track", &acq, &"--channel", &"2", &"--project", &"max", &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&d.path().join("acq_1_RES"), &alone, n);
    let record = std::fs::read_to_string(d.path().join("acq_1_RES").join(ctc::RUN_RECORD)).unwrap();
    assert!(record.contains("channel = 2") && record.contains("channel_name = \"DAPI\""), "the run record names the channel tracked: {record}");
    assert_eq!(first_overlay(&alone, &acq, &["--channel", "DAPI", "--project", "max"], &d.path().join("over-nd")), first_overlay(&alone, &seq, &[], &d.path().join("over-folder")));
    // The channel by the name the index gives it: the same result.
    let by_name = d.path().join("by_name");
    let o = cellstream(&[&"track", &acq, &"--channel", &"DAPI", &"--project", &"max", &"--segmenter", &"classical", &"-q", &"--out", &by_name]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&by_name, &alone, n);
    let record = std::fs::read_to_string(by_name.join(ctc::RUN_RECORD)).unwrap();
    assert!(record.contains("channel = \"DAPI\""), "{record}");
    // Followed while the acquisition writes it, from before its first file,
    // an image every 40 ms: the same result.
    let res = d.path().join("live_R");
    follow_ndtiff_while_written(&d.path().join("live_1"), &res, &["--follow", "3", "--channel", "DAPI", "--project", "max"], &images, 300, 40);
    assert_same_result(&res, &alone, n);
    assert!(!res.join(format!("mask{n:03}.tif")).exists());
    // Stopped partway through a time point: refused by name, nothing written.
    let cut = d.path().join("cut_1");
    ndtiff_support::write_ndtiff(&cut, &images[..images.len() - 2]);
    let out = d.path().join("cut_R");
    let o = cellstream(&[&"track", &cut, &"--follow", &"1", &"--channel", &"2", &"--project", &"max", &"--segmenter", &"classical", &"--out", &out]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("cut_1") && err.contains("gives time point 4 2 z slice(s) but time point 0 3"), "{err}");
    assert!(!out.exists());
    // Stopped after the last time point's GFP slices, before its DAPI ones:
    // refused by name, not a time point fewer.
    let gfp_only = d.path().join("gfp_only_1");
    let last = images.len() - 6;
    let kept: Vec<_> = images.iter().enumerate().filter(|(i, (axes, _))| *i < last || axes["channel"] == "GFP").map(|(_, im)| im.clone()).collect();
    ndtiff_support::write_ndtiff(&gfp_only, &kept);
    // Refused by name, finished or followed, with nothing written: that one,
    // and a channel name the acquisition does not give (the channels listed).
    let cases = [
        (&gfp_only, "DAPI", vec!["gfp_only_1", "no image of channel DAPI at time point 4"]),
        (&acq, "mCherry", vec!["acq_1", "no channel named \"mCherry\"; its channels are 1: GFP, 2: DAPI"]),
    ];
    for (input, channel, says) in &cases {
        for follow in [&[][..], &["--follow", "1"]] {
            let out = d.path().join("refused");
            let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"track", input, &"--channel", channel, &"--project", &"max", &"--segmenter", &"classical", &"--out", &out];
            args.extend(follow.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
            let o = cellstream(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success() && says.iter().all(|s| err.contains(s)), "{err}");
            assert!(!out.exists());
        }
    }
    // Two channels and no --channel: refused, the channels listed.
    let out = d.path().join("refused");
    let o = cellstream(&[&"track", &acq, &"--project", &"max", &"--segmenter", &"classical", &"--out", &out]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("acq_1") && err.contains("holds 2 channels (1: GFP, 2: DAPI)"), "{err}");
    assert!(!out.exists());
}

/// The result's default place: `track .` inside a sequence folder writes
/// NN_RES beside it, not inside; `movie.ome.tif` gives `movie_RES`.
#[test]
fn default_results_lie_beside_the_input_and_are_named_after_it() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 2);
    let o = Command::new(env!("CARGO_BIN_EXE_cellstream")).args(["track", ".", "--segmenter", "classical", "-q"]).current_dir(&seq).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(d.path().join("01_RES/res_track.txt").exists());
    assert_eq!(std::fs::read_dir(&seq).unwrap().count(), 2, "nothing written inside the sequence");
    // A --stats file in a folder that does not exist: named as given, before tracking.
    let o = cellstream(&[&"track", &seq, &"--segmenter", &"classical", &"--out", &d.path().join("s_RES"), &"--stats", &d.path().join("nodir/c.csv")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("nodir/c.csv: cannot be written: the folder") && !err.contains(".c.csv."), "{err}");
    assert!(!d.path().join("s_RES").exists());
    // A folder that cannot be made (under /proc): named as given.
    let o = cellstream(&[&"track", &seq, &"--out", &d.path().join("p_RES"), &"--save-probabilities", &"/proc/cellstream-probs"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("/proc/cellstream-probs: cannot be written") && !err.contains(".partial"), "{err}");
    assert!(!d.path().join("p_RES").exists());
    let stack = d.path().join("movie.ome.tif");
    write_stack(&stack, &sample_frames(2), None);
    let o = cellstream(&[&"track", &stack, &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(d.path().join("movie_RES/res_track.txt").exists());
}

/// Ctrl-C under --follow ends the acquisition's stream: the frames read so
/// far are tracked and published, as if no frame had come for the wait.
#[test]
fn ctrl_c_under_follow_publishes_the_frames_read_so_far() {
    let d = tempfile::tempdir().unwrap();
    let n = 3;
    let (seq, alone) = sample_tracked_alone(d.path(), n);
    let out = d.path().join("live_RES");
    let start = std::time::Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_cellstream"))
        .args(["track", "--segmenter", "classical", "--follow", "60", "--out"])
        .arg(&out)
        .arg(&seq)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.contains("stopping: tracking the frames read so far"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(30), "ended on Ctrl-C, not after the 60 s wait");
    assert_same_result(&out, &alone, n);
}

/// An NDTiff acquisition of three positions (the wells of a plate), written
/// position by position within each time point as Micro-Manager writes
/// them: position 0 the sample, 1 the sample upside down, 2 the sample
/// again. Without --position each is tracked into ACQ_PosN_RES beside it,
/// each exactly as its frames in a folder; --position picks one; render
/// and export take it too; what cannot be done is refused by name.
#[test]
fn each_position_of_an_ndtiff_acquisition_is_tracked_into_its_own_result() {
    let d = tempfile::tempdir().unwrap();
    let n = 4;
    let (seq, alone) = sample_tracked_alone(d.path(), n);
    let frames = sample_frames(n);
    let flipped_seq = write_frame_files(&d.path().join("flipped"), &frames.iter().map(|f| [upside_down(f)]).collect::<Vec<_>>());
    let flipped = d.path().join("flipped_alone");
    let o = cellstream(&[&"track", &flipped_seq, &"--segmenter", &"classical", &"--out", &flipped, &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut images = Vec::new();
    for (t, frame) in frames.iter().enumerate() {
        for p in 0..3 {
            images.push((serde_json::json!({"time": t, "position": p}), if p == 1 { upside_down(frame) } else { frame.clone() }));
        }
    }
    let plate = d.path().join("plate_1");
    ndtiff_support::write_ndtiff(&plate, &images);
    let o = cellstream(&[&"track", &plate, &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (p, expected) in [(0, &alone), (1, &flipped), (2, &alone)] {
        let res = d.path().join(format!("plate_1_Pos{p}_RES"));
        assert_same_result(&res, expected, n);
        let record = std::fs::read_to_string(res.join(ctc::RUN_RECORD)).unwrap();
        assert!(record.contains(&format!("position = {p}")), "the run record names the position: {record}");
    }
    // --position picks one, into ACQ_PosN_RES by default.
    std::fs::remove_dir_all(d.path().join("plate_1_Pos1_RES")).unwrap();
    let o = cellstream(&[&"track", &plate, &"--position", &"1", &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&d.path().join("plate_1_Pos1_RES"), &flipped, n);
    // Followed while it is written, an image every 20 ms: the same result.
    let res = d.path().join("live_R");
    follow_ndtiff_while_written(&d.path().join("live_plate"), &res, &["--follow", "2", "--position", "1"], &images, 0, 20);
    assert_same_result(&res, &flipped, n);
    // Channels named "2" and "1": --channel 2 reads the second, and says so.
    let swapped = d.path().join("swapped_1");
    let two: Vec<_> = frames.iter().enumerate().flat_map(|(t, f)| [(serde_json::json!({"time": t, "channel": "2"}), upside_down(f)), (serde_json::json!({"time": t, "channel": "1"}), f.clone())]).collect();
    ndtiff_support::write_ndtiff(&swapped, &two);
    let o = cellstream(&[&"track", &swapped, &"--channel", &"2", &"--segmenter", &"classical"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.contains("--channel 2 counts channels from 1 and reads the channel named \"1\"; the one named \"2\" is --channel 1"), "{err}");
    assert_same_result(&d.path().join("swapped_1_RES"), &alone, n);
    // render draws on the position asked for.
    let res1 = d.path().join("plate_1_Pos1_RES");
    assert_eq!(first_overlay(&res1, &plate, &["--position", "1"], &d.path().join("over-p1")), first_overlay(&flipped, &flipped_seq, &[], &d.path().join("over-f")));
    // export measures in it: the same intensities as from the folder.
    let csv = |res: &Path, raw: &Path, extra: &[&str], name: &str| {
        let out = d.path().join(name);
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"export", &res, &"--raw", &raw, &"--napari", &out];
        args.extend(extra.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
        let o = cellstream(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(out).unwrap()
    };
    assert_eq!(csv(&res1, &plate, &["--position", "1"], "p1.csv"), csv(&flipped, &flipped_seq, &[], "f.csv"));
    // Without --position, the position the result records; another is refused.
    assert_eq!(csv(&res1, &plate, &[], "p1r.csv"), csv(&flipped, &flipped_seq, &[], "f.csv"));
    assert_eq!(first_overlay(&res1, &plate, &[], &d.path().join("over-p1r")), first_overlay(&flipped, &flipped_seq, &[], &d.path().join("over-f")));
    // Refused by name, nothing written: a position the acquisition lacks,
    // --out for all of them at once, --position for a folder of TIFFs, and
    // render on several positions without one.
    let refused = |args: &[&dyn AsRef<std::ffi::OsStr>], says: &[&str]| {
        let o = cellstream(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && says.iter().all(|s| err.contains(s)), "{err}");
    };
    // A plate whose position 1 lacks time point 2 (an image lost): named,
    // and no position tracked.
    let short = d.path().join("short_1");
    let kept: Vec<_> = images.iter().filter(|(axes, _)| !(axes["time"] == 2 && axes["position"] == 1)).cloned().collect();
    ndtiff_support::write_ndtiff(&short, &kept);
    refused(&[&"track", &short, &"--segmenter", &"classical"], &["short_1", "position 1: lists time points 1 and 3 but none between them"]);
    assert!(!d.path().join("short_1_Pos0_RES").exists());
    let out = d.path().join("nothing");
    refused(&[&"track", &plate, &"--position", &"3", &"--segmenter", &"classical", &"--out", &out], &["plate_1", "has the positions 0, 1, 2; there is no position 3"]);
    refused(&[&"track", &plate, &"--segmenter", &"classical", &"--out", &out], &["plate_1", "an NDTiff acquisition of the positions 0, 1, 2", "--position 0 --out", "to write plate_1_Pos0_RES, plate_1_Pos1_RES, plate_1_Pos2_RES beside it"]);
    refused(&[&"track", &plate, &"--follow", &"1", &"--segmenter", &"classical"], &["plate_1", "--follow is for one of them", "--position 0 --follow"]);
    refused(&[&"track", &seq, &"--position", &"1", &"--segmenter", &"classical", &"--out", &out], &["01", "is not a Micro-Manager NDTiff acquisition"]);
    refused(&[&"track", &plate, &"--position=-1", &"--out", &out], &["not a position"]);
    refused(&[&"render", &"--res", &flipped, &"--raw", &plate, &"--out", &out], &["plate_1", "holds 3 positions (0, 1, 2); --position N picks the one to read"]);
    let napari = d.path().join("nothing.csv");
    refused(&[&"export", &res1, &"--raw", &plate, &"--position", &"0", &"--napari", &napari], &["plate_1_Pos1_RES", "was tracked from position 1 of its acquisition (its cellstream.toml); --position 0 reads another"]);
    assert!(!napari.exists());
    assert!(!out.exists());
}

/// A Micro-Manager 2.0 folder of z-stacks, one file a slice:
/// `img_channel00C_position000_time00000000T_z00Z.tif`, the sample as slice
/// 2 of 3 of channel 0 (the others dimmer), channel 1 the slices upside
/// down. `{z}` gathers each time point's slices for `--project`.
#[test]
fn z_slices_one_file_each_are_gathered_by_a_pattern_and_projected() {
    let d = tempfile::tempdir().unwrap();
    let n = 5;
    let (seq, alone) = sample_tracked_alone(d.path(), n);
    let mm = d.path().join("pos0");
    std::fs::create_dir_all(&mm).unwrap();
    let name = |c: usize, t: usize, z: usize| format!("img_channel{c:03}_position000_time{t:09}_z{z:03}.tif");
    for (t, slices) in z_slices(n).iter().enumerate() {
        for (z, slice) in slices.iter().enumerate() {
            ctc::write_frame(&mm.join(name(0, t, z)), slice).unwrap();
            ctc::write_frame(&mm.join(name(1, t, z)), &upside_down(slice)).unwrap();
        }
    }
    let pattern = mm.join("img_channel000_position000_time{t}_z{z}.tif");
    let o = cellstream(&[&"track", &pattern, &"--project", &"max", &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&mm.join("img_channel000_position000_time_z_RES"), &alone, n);
    // Slice 2 alone is the sample; so is the pattern naming slice 1 (from 0) alone.
    for (input, extra, out) in [(&pattern, vec!["--project", "max", "--slices", "2"], "slice2"), (&mm.join("img_channel000_position000_time{t}_z001.tif"), vec![], "z001")] {
        let out = d.path().join(out);
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"track", input, &"--segmenter", &"classical", &"-q", &"--out", &out];
        args.extend(extra.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
        let o = cellstream(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_same_result(&out, &alone, n);
    }
    // render draws over the projection as over the sample's folder.
    assert_eq!(first_overlay(&alone, &pattern, &["--project", "max"], &d.path().join("over-pattern")), first_overlay(&alone, &seq, &[], &d.path().join("over-folder")));
    // Refused by name, with nothing written: no --project; a time point
    // short of a slice; {z} for masks; {z} while following.
    let refused = |args: &[&dyn AsRef<std::ffi::OsStr>], says: &[&str]| {
        let out = d.path().join("refused");
        let mut all = args.to_vec();
        all.extend([&"--out" as &dyn AsRef<std::ffi::OsStr>, &out]);
        let o = cellstream(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && says.iter().all(|s| err.contains(s)), "{err}");
        assert!(!out.exists());
    };
    refused(&[&"track", &pattern, &"--segmenter", &"classical"], &["names 3 z slices", "--project max"]);
    // The folder itself: its last numbers (the slices) repeat, and the message suggests the pattern.
    refused(&[&"track", &mm, &"--segmenter", &"classical"], &["has the same frame number 0", "img_channel000_position000_time{t}_z{z}.tif' --project max"]);
    refused(&[&"track", &"--masks", &pattern], &["names z slices", "one 2D plane a time point"]);
    refused(&[&"track", &pattern, &"--follow", &"60", &"--segmenter", &"classical"], &["names z slices ({z}), one file each", "--project max"]);
    std::fs::remove_file(mm.join(name(0, 3, 2))).unwrap();
    refused(&[&"track", &pattern, &"--project", &"max", &"--segmenter", &"classical"], &["gives time point 3 2 z slice(s)", "time point 0 3"]);
}

/// Writes `planes` (the little-endian bytes of each time point, of Zarr
/// data type `dtype`) as an OME-Zarr image: NGFF 0.4 on Zarr v2, axes t, y,
/// x, one uncompressed chunk a time point.
fn write_ome_zarr(dir: &Path, planes: &[Vec<u8>], (h, w): (usize, usize), dtype: &str) {
    std::fs::create_dir_all(dir.join("0")).unwrap();
    std::fs::write(dir.join(".zgroup"), r#"{"zarr_format": 2}"#).unwrap();
    let axes = r#"[{"name": "t", "type": "time"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}]"#;
    let attrs = format!(r#"{{"multiscales": [{{"version": "0.4", "axes": {axes}, "datasets": [{{"path": "0", "coordinateTransformations": [{{"type": "scale", "scale": [1.0, 1.0, 1.0]}}]}}]}}]}}"#);
    std::fs::write(dir.join(".zattrs"), attrs).unwrap();
    let zarray = format!(
        r#"{{"zarr_format": 2, "shape": [{n}, {h}, {w}], "chunks": [1, {h}, {w}], "dtype": "{dtype}", "compressor": null, "fill_value": 0, "filters": null, "order": "C"}}"#,
        n = planes.len()
    );
    std::fs::write(dir.join("0/.zarray"), zarray).unwrap();
    for (t, bytes) in planes.iter().enumerate() {
        std::fs::write(dir.join(format!("0/{t}.0.0")), bytes).unwrap();
    }
}

#[test]
fn an_ome_zarr_image_is_tracked_exactly_as_its_frames_in_a_folder() {
    let d = tempfile::tempdir().unwrap();
    let n = 6;
    let (seq, alone) = sample_tracked_alone(d.path(), n);
    let frames = sample_frames(n);
    let dim = frames[0].dim();
    let planes: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| {
            let ctc::Frame::U16(a) = f else { unreachable!("the fluorescence sample is 16-bit") };
            a.iter().flat_map(|v| v.to_le_bytes()).collect()
        })
        .collect();
    let image = d.path().join("movie.zarr");
    write_ome_zarr(&image, &planes, dim, "<u2");
    let o = cellstream(&[&"track", &image, &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_result(&d.path().join("movie_RES"), &alone, n);
    // A span of it, as the same span of the folder.
    let (span, folder_span) = (d.path().join("span"), d.path().join("folder-span"));
    for (input, out) in [(&image, &span), (&seq, &folder_span)] {
        let o = cellstream(&[&"track", input, &"--segmenter", &"classical", &"--frames", &"2-4", &"--out", out, &"-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_same_frames(&span, &folder_span, 2..=4);
    // render draws over it as over the folder.
    assert_eq!(first_overlay(&alone, &image, &[], &d.path().join("over-zarr")), first_overlay(&alone, &seq, &[], &d.path().join("over-folder")));
    // The result's masks as an OME-Zarr label image link as the folder's masks.
    let labels: Vec<Vec<u8>> = (0..n).map(|t| ctc::read_mask(&alone.join(format!("mask{t:03}.tif"))).unwrap().iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let cells = image.join("labels/cells");
    write_ome_zarr(&cells, &labels, dim, "<u4");
    let (linked, relinked) = (d.path().join("linked"), d.path().join("relinked"));
    for (input, out) in [(&cells, &linked), (&alone, &relinked)] {
        let o = cellstream(&[&"track", &"--masks", input, &"--out", out, &"-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_same_result(&linked, &relinked, n);
    // --follow is for folders still being written; a chunk cut short is an error naming the image; nothing is written.
    let out = d.path().join("refused");
    let o = cellstream(&[&"track", &image, &"--follow", &"2", &"--segmenter", &"classical", &"--out", &out]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("OME-Zarr"));
    std::fs::write(image.join("0/3.0.0"), &planes[3][..100]).unwrap();
    let o = cellstream(&[&"track", &image, &"--segmenter", &"classical", &"--out", &out]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("movie.zarr") && err.contains("time point 3"), "{err}");
    assert!(!out.exists());
}

#[test]
fn an_ome_zarr_time_point_with_no_chunk_stored_is_warned_of() {
    // The v04 fixture (3 time points, one chunk a plane) without time point
    // 1's chunks: it reads as blank (Zarr's fill value), said once.
    let d = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zarr/v04.zarr");
    let z = d.path().join("image.zarr");
    std::fs::create_dir_all(z.join("0")).unwrap();
    for name in [".zgroup", ".zattrs"] {
        std::fs::copy(src.join(name), z.join(name)).unwrap();
    }
    for e in std::fs::read_dir(src.join("0")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !name.starts_with("1.") {
            std::fs::copy(src.join("0").join(&name), z.join("0").join(&name)).unwrap();
        }
    }
    let out = d.path().join("res");
    let o = cellstream(&[&"track", &z, &"--channel", &"1", &"--project", &"max", &"--segmenter", &"classical", &"--out", &out, &"-q"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(err.matches("time point 1 has no data stored").count(), 1, "{err}");
    // The whole image says nothing.
    let o = cellstream(&[&"track", &src, &"--channel", &"1", &"--project", &"max", &"--segmenter", &"classical", &"--out", &d.path().join("whole"), &"-q"]);
    assert!(o.status.success() && !String::from_utf8_lossy(&o.stderr).contains("no data stored"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Another tool's tracking result in the output folder is not replaced;
/// cellstream's own is, so that a run can be repeated.
#[test]
fn another_tools_result_is_not_replaced() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 2);
    let res = d.path().join("01_RES");
    let o = cellstream(&[&"track", &seq, &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = cellstream(&[&"track", &seq, &"--segmenter", &"classical", &"-q"]);
    assert!(o.status.success(), "its own result is replaced: {}", String::from_utf8_lossy(&o.stderr));
    // The same folder as laptrack or Fiji would leave it: no run record.
    std::fs::remove_file(res.join(ctc::RUN_RECORD)).unwrap();
    std::fs::write(res.join("res_track.txt"), "1 0 1 0\n").unwrap();
    let before: Vec<(PathBuf, Vec<u8>)> = {
        let mut v: Vec<_> = std::fs::read_dir(&res).unwrap().map(|e| e.unwrap().path()).map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
        v.sort();
        v
    };
    for args in [vec![&"track" as &dyn AsRef<std::ffi::OsStr>, &seq, &"--segmenter", &"classical"], vec![&"track", &"--masks", &seq, &"--out", &res], vec![&"track", &d.path()]] {
        let o = cellstream(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("01_RES: holds a tracking result that cellstream did not write"), "{err}");
    }
    let mut after: Vec<_> = std::fs::read_dir(&res).unwrap().map(|e| e.unwrap().path()).map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    after.sort();
    assert_eq!(after, before);
}

/// Whether results `a` and `b` hold the same track file and the same masks
/// of `times`, and no others.
fn assert_same_frames(a: &Path, b: &Path, times: std::ops::RangeInclusive<usize>) {
    assert_eq!(std::fs::read_to_string(a.join("res_track.txt")).unwrap(), std::fs::read_to_string(b.join("res_track.txt")).unwrap(), "{}", a.display());
    let masks = |r: &Path| {
        let mut m: Vec<String> = std::fs::read_dir(r).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("mask")).collect();
        m.sort();
        m
    };
    let want: Vec<String> = times.map(|t| format!("mask{t:03}.tif")).collect();
    assert_eq!(masks(a), want, "{}", a.display());
    assert_eq!(masks(b), want, "{}", b.display());
    for name in &want {
        assert_eq!(ctc::read_mask(&a.join(name)).unwrap(), ctc::read_mask(&b.join(name)).unwrap(), "{} {name}", a.display());
    }
}

/// The frames `times` of sequence `seq` copied into a folder of their own,
/// `dir/alone/01`: a span as users cut one before `--frames`.
fn span_alone(dir: &Path, seq: &Path, times: impl IntoIterator<Item = usize>) -> PathBuf {
    copy_frames(seq, &dir.join("alone/01"), times)
}

#[test]
fn frames_tracks_that_span_as_a_folder_of_those_frames_alone_and_reads_no_other() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 12);
    // The span alone, in a folder of its own: what users did before --frames.
    let alone = span_alone(d.path(), &seq, 4..=8);
    let stack = d.path().join("movie.tif");
    write_stack(&stack, &sample_frames(12), Some("ImageJ=1.54f\nimages=12\nframes=12\n"));
    // Frames outside the span are never read: a broken one there does no harm.
    std::fs::write(seq.join("t010.tif"), b"II*\0this is not image data").unwrap();
    for segmenter in ["model", "classical"] {
        let track = |input: &Path, out: &str, frames: &[&str]| {
            let out = d.path().join(format!("{out}-{segmenter}"));
            let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"track", &input, &"--segmenter", &segmenter, &"--out", &out, &"-q"];
            args.extend(frames.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
            let o = cellstream(&args);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert_eq!(ctc::validate_result(&out).unwrap(), vec![], "{}", out.display());
            out
        };
        let want = track(&alone, "alone", &[]);
        let tracks = std::fs::read_to_string(want.join("res_track.txt")).unwrap();
        assert!(tracks.lines().count() >= 5 && tracks.lines().all(|l| l.split(' ').nth(1).is_some_and(|b| b.parse::<usize>().unwrap() >= 4)), "{segmenter}: {tracks}");
        assert_same_frames(&track(&seq, "folder", &["--frames", "4-8"]), &want, 4..=8);
        assert_same_frames(&track(&stack, "stack", &["--frames", "4-8"]), &want, 4..=8);
    }
    let record = std::fs::read_to_string(d.path().join("folder-model/cellstream.toml")).unwrap();
    assert!(record.contains("frames = \"4-8\""), "{record}");

    // Masks: the span of a folder of masks, or of a label stack.
    let masks = d.path().join("masks");
    std::fs::create_dir(&masks).unwrap();
    for t in 0..12 {
        std::fs::copy(d.path().join(format!("alone-classical/mask{:03}.tif", t.clamp(4, 8))), masks.join(format!("mask{t:03}.tif"))).unwrap();
    }
    let link = |frames: &str, out: &str| {
        let out = d.path().join(out);
        let o = cellstream(&[&"track", &"--masks", &masks, &"--frames", &frames, &"--out", &out]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (out, String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (linked, said) = link("4-8", "linked");
    assert_same_frames(&linked, &d.path().join("alone-classical"), 4..=8);
    assert!(!said.contains("note"), "{said}");
    // A span that runs past the end is cut there, and said so.
    let (linked, said) = link("9-20", "tail");
    assert!(said.contains("--frames 9-20") && said.contains("ends at frame 11"), "{said}");
    assert_eq!(ctc::validate_result(&linked).unwrap(), vec![]);
    assert!(linked.join("mask009.tif").exists() && linked.join("mask011.tif").exists() && !linked.join("mask008.tif").exists());
}

#[test]
fn frames_that_name_no_frame_are_refused_and_nothing_is_written() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 6);
    let out = d.path().join("R");
    for (input, flag) in [(&seq, None), (&d.path().join("01"), Some("--masks"))] {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"track"];
        if let Some(f) = &flag {
            args.push(f);
        }
        args.extend([input as &dyn AsRef<std::ffi::OsStr>, &"--frames", &"6-9", &"--out", &out]);
        let o = cellstream(&args);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("01: holds frames 0–5; --frames 6-9 names none of them"), "{err}");
        assert!(!out.exists());
    }
    let o = cellstream(&[&"track", &seq, &"--frames", &"5-2", &"--out", &out]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("ends before it starts"), "{err}");
}

#[test]
fn follow_with_frames_reads_that_span_alone_and_refuses_one_that_never_comes() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 12);
    let alone = span_alone(d.path(), &seq, 5..=8);
    let want = d.path().join("want");
    let o = cellstream(&[&"track", &alone, &"--segmenter", &"classical", &"-q", &"--out", &want]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Broken frames before and after the span: a followed folder never opens them.
    for t in [2, 9] {
        std::fs::write(seq.join(format!("t{t:03}.tif")), b"II*\0this is not image data").unwrap();
    }
    let res = d.path().join("R");
    let out = follow(&seq, &res, "1", &["--frames", "5-8"]).wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_same_frames(&res, &want, 5..=8);
    // A span the folder never reaches: an error, and the earlier result stays.
    let out = follow(&seq, &res, "1", &["--frames", "20-"]).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("gave no frame of --frames 20- before it went quiet for 1.0 s"), "{err}");
    assert_same_frames(&res, &want, 5..=8);
    // A span that runs past the folder's last frame: tracked, and said so.
    let out = Command::new(env!("CARGO_BIN_EXE_cellstream"))
        .args(["track", "--segmenter", "classical", "--follow", "1", "--frames", "10-20", "--out"])
        .arg(d.path().join("tail"))
        .arg(&seq)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.contains("note: --frames 10-20:") && err.contains("ended at frame 11"), "{err}");
}

#[test]
fn a_dataset_whose_sequence_lacks_the_span_is_refused_before_any_is_tracked() {
    let d = tempfile::tempdir().unwrap();
    let dataset = d.path().join("ds");
    let first = sample(&dataset, 12);
    let second = dataset.join("02");
    std::fs::create_dir_all(&second).unwrap();
    for t in 0..6 {
        std::fs::copy(first.join(format!("t{t:03}.tif")), second.join(format!("t{t:03}.tif"))).unwrap();
    }
    let o = cellstream(&[&"track", &dataset, &"--segmenter", &"classical", &"--frames", &"8-9"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("02: holds frames 0–5; --frames 8-9 names none of them"), "{err}");
    assert!(!dataset.join("01_RES").exists(), "nothing is tracked before the refusal");
    // One frame alone, `--frames A`.
    let o = cellstream(&[&"track", &dataset, &"--segmenter", &"classical", &"--frames", &"3", &"-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for r in ["01_RES", "02_RES"] {
        assert_eq!(ctc::validate_result(&dataset.join(r)).unwrap(), vec![]);
        assert!(dataset.join(r).join("mask003.tif").exists() && !dataset.join(r).join("mask004.tif").exists());
    }
}

#[test]
fn a_closed_pipe_leaves_the_result_published_and_no_panic() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 4);
    let res = d.path().join("R");
    // `true` exits without reading: the summary line goes to a closed pipe.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("{} track {} --segmenter classical --out {} | true", env!("CARGO_BIN_EXE_cellstream"), seq.display(), res.display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && !err.contains("panicked"), "{err}");
    assert_eq!(ctc::validate_result(&res).unwrap(), vec![]);
}

#[test]
fn a_gap_in_the_numbering_outside_the_span_does_not_matter() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 12);
    for t in [4, 5] {
        std::fs::remove_file(seq.join(format!("t{t:03}.tif"))).unwrap();
    }
    let alone = span_alone(d.path(), &seq, 6..12);
    let run = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"track", &"--segmenter", &"classical", &"-q"];
        all.extend(args);
        cellstream(&all)
    };
    let (want, got) = (d.path().join("want"), d.path().join("got"));
    for (input, out, frames) in [(&alone, &want, None), (&seq, &got, Some("6-"))] {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![input, &"--out", out];
        if let Some(f) = &frames {
            args.extend([&"--frames" as &dyn AsRef<std::ffi::OsStr>, f]);
        }
        let o = run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_same_frames(&got, &want, 6..=11);
    // The gap inside the span, or without a span: named, each missing frame.
    for frames in ["2-7", "0-"] {
        let o = run(&[&seq, &"--frames", &frames, &"--out", &d.path().join("never")]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("gap in the frame numbering: t004.tif, t005.tif are missing"), "{frames}: {err}");
    }
    // Masks with the same gap link from frame 6 on.
    let o = cellstream(&[&"track", &"-q", &"--masks", &got, &"--frames", &"6-9", &"--out", &d.path().join("relinked")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let masks = d.path().join("masks");
    std::fs::create_dir(&masks).unwrap();
    for t in (0..4).chain(6..12) {
        std::fs::copy(want.join(format!("mask{:03}.tif", t.max(6))), masks.join(format!("mask{t:03}.tif"))).unwrap();
    }
    let o = cellstream(&[&"track", &"-q", &"--masks", &masks, &"--frames", &"6-", &"--out", &d.path().join("linked")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A span that begins in the gap, or none: the jump is named.
    let never = d.path().join("never2");
    for frames in [Some("5-"), None] {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"track", &"-q", &"--masks", &masks, &"--out", &never];
        if let Some(f) = &frames {
            args.extend([&"--frames" as &dyn AsRef<std::ffi::OsStr>, f]);
        }
        let o = cellstream(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("frame numbers jump from 3 (mask003.tif) to 6 (mask006.tif)"), "{frames:?}: {err}");
    }
}
