//! Reading real-world TIFF encodings, refusing bad input with clear errors,
//! and never panicking on arbitrary bytes.
use std::path::{Path, PathBuf};

use cellstream::ctc::{self, Frame, Planes, Projection};
use ndarray::Array2;
use proptest::prelude::*;

mod ndtiff_support;
use ndtiff_support::write_ndtiff;

const H: usize = 37;
const W: usize = 53;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiff").join(name)
}

fn raw<T: Copy>(name: &str, conv: impl Fn(&[u8]) -> T, size: usize) -> Array2<T> {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let v: Vec<T> = bytes.chunks_exact(size).map(conv).collect();
    Array2::from_shape_vec((H, W), v).unwrap()
}

#[test]
fn every_encoding_decodes_to_the_same_values() {
    let u16s = raw("expected_u16.raw", |b| u16::from_le_bytes([b[0], b[1]]), 2);
    for name in ["u16_none.tif", "u16_lzw.tif", "u16_deflate.tif", "u16_zstd.tif", "u16_lzw_pred.tif", "u16_tiled_deflate.tif"] {
        let f = ctc::read_frame(&fixture(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f, Frame::U16(u16s.clone()), "{name}");
    }
    let u8s = raw("expected_u8.raw", |b| b[0], 1);
    assert_eq!(ctc::read_frame(&fixture("u8_strips.tif")).unwrap(), Frame::U8(u8s));
    let f32s = raw("expected_f32.raw", |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]), 4);
    assert_eq!(ctc::read_frame(&fixture("f32_zstd.tif")).unwrap(), Frame::F32(f32s));
}

#[test]
fn label_masks_of_any_integer_width() {
    let labels = raw("expected_labels.raw", |b| u16::from_le_bytes([b[0], b[1]]) as u32, 2);
    for name in ["labels_lzw.tif", "labels_u32.tif"] {
        assert_eq!(ctc::read_mask(&fixture(name)).unwrap(), labels, "{name}");
    }
}

#[test]
fn rgb_and_multipage_are_refused_by_name() {
    // An empty file (a copy cut off) says so, as frame and as mask.
    let d = tempfile::tempdir().unwrap();
    let empty = d.path().join("t000.tif");
    std::fs::write(&empty, b"").unwrap();
    for e in [ctc::read_frame(&empty).unwrap_err(), ctc::read_mask(&empty).unwrap_err()] {
        assert!(e.path == empty && e.what.contains("is empty (0 bytes)"), "{e}");
    }
    let e = ctc::read_frame(&fixture("rgb.tif")).unwrap_err();
    assert!(e.to_string().contains("rgb.tif") && e.what.contains("3 channels per pixel (RGB, 8-bit)") && e.what.contains("--channel"), "{e}");
    let e = ctc::read_frame(&fixture("multipage.tif")).unwrap_err();
    assert!(e.what.contains("multi-page") && e.what.contains("3 pages") && e.what.contains("--channel"), "{e}");
    // A 3D label mask is no frame: nothing to pick or project.
    let e = ctc::read_mask(&fixture("multipage.tif")).unwrap_err();
    assert!(e.what.contains("3 pages") && e.what.contains("2D label mask") && !e.what.contains("--project"), "{e}");
    let e = ctc::read_mask(&fixture("rgb.tif")).unwrap_err();
    assert!(e.what.contains("3 channels per pixel"), "a label mask has one channel: {e}");
    let e = ctc::read_mask(&fixture("f32_zstd.tif")).unwrap_err();
    assert!(e.what.contains("float"), "{e}");
}

/// tifffile's frames of three channels (two pages for `channels_pages`),
/// channel 2 holding `expected_u16.raw`: samples interleaved (RGB), in planes
/// of their own, and one page a channel.
#[test]
fn one_channel_of_a_frame_is_read_however_the_channels_are_stored() {
    let u16s = raw("expected_u16.raw", |b| u16::from_le_bytes([b[0], b[1]]), 2);
    for (name, channels) in [("channels_rgb.tif", 3), ("channels_planar.tif", 3), ("channels_pages.tif", 2)] {
        let got = ctc::read_frame_planes(&fixture(name), Some(2).into()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, Frame::U16(u16s.clone()), "{name}");
        let other = ctc::read_frame_planes(&fixture(name), Some(1).into()).unwrap();
        assert_ne!(other, got, "{name}: channel 1 is another image");
        let e = ctc::read_frame(&fixture(name)).unwrap_err();
        assert!(e.to_string().contains(name) && e.what.contains("--channel"), "{e}");
        let e = ctc::read_frame_planes(&fixture(name), Some(channels + 1).into()).unwrap_err();
        assert!(e.to_string().contains(name) && e.what.contains(&format!("there is no channel {}", channels + 1)), "{e}");
    }
    // A grayscale frame is its own channel 1, and has no other.
    assert_eq!(ctc::read_frame_planes(&fixture("u16_lzw.tif"), Some(1).into()).unwrap(), Frame::U16(u16s));
    let e = ctc::read_frame_planes(&fixture("u16_lzw.tif"), Some(2).into()).unwrap_err();
    assert!(e.what.contains("has one channel; there is no channel 2"), "{e}");
}

/// tifffile's hyperstacks of 3 time points × 2 channels, pixel (y, x) of
/// time point t and channel c holding 100·t + 10·c + 5·y + x: ImageJ's
/// (the channels of a time point together) and OME's (each channel's time
/// points together, `DimensionOrder` XYTCZ).
#[test]
fn a_hyperstack_is_read_one_channel_at_a_time_in_either_page_order() {
    for name in ["hyperstack_imagej.tif", "hyperstack_ome.tif"] {
        let path = fixture(name);
        for c in 1..=2 {
            let stack = ctc::Stack::open_planes(&path, Some(c).into()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(stack.time_points, 3, "{name}");
            let frames: Vec<(usize, Frame)> = stack.frames().unwrap().map(|f| f.unwrap()).collect();
            for (t, f) in &frames {
                let want = Array2::from_shape_fn((6, 5), |(y, x)| (100 * t + 10 * c + 5 * y + x) as u16);
                assert_eq!(f, &Frame::U16(want), "{name} channel {c} time point {t}");
                assert_eq!(&stack.read_page(*t).unwrap(), f, "{name}: a frame alone is the frame in order");
            }
        }
        let e = ctc::Stack::open(&path).unwrap_err();
        assert!(e.to_string().contains(name) && e.what.contains("2 channels × 3 time points") && e.what.contains("--channel 1 to 2"), "{e}");
        let e = ctc::Stack::open_planes(&path, Some(3).into()).unwrap_err();
        assert!(e.what.contains("there is no channel 3"), "{e}");
    }
    // A plain stack's pages are time points: it has one channel.
    let e = ctc::Stack::open_planes(&fixture("multipage.tif"), Some(2).into()).unwrap_err();
    assert!(e.what.contains("there is no channel 2"), "{e}");
    assert_eq!(ctc::Stack::open_planes(&fixture("multipage.tif"), Some(1).into()).unwrap().time_points, 3);
}

/// tifffile's z-stacks over time, 3 time points × 4 z slices × 2 channels,
/// pixel (y, x) of time point t, slice z and channel c holding
/// 100·t + 20·z + 5·c + 5·y + x: each time point's projection of one
/// channel, from ImageJ's page order and from OME's (`XYZTC`).
#[test]
fn z_stacks_over_time_are_read_as_each_time_points_projection() {
    let want = |t: usize, c: usize, z: f32| Array2::from_shape_fn((6, 5), |(y, x)| (100 * t + 5 * c + 5 * y + x) as f32 + z);
    for name in ["zstack_imagej.tif", "zstack_ome.tif"] {
        let path = fixture(name);
        for c in 1..=2 {
            let max = ctc::Stack::open_planes(&path, Planes { channel: Some(c), project: Some(Projection::Max), ..Planes::default() }).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((max.time_points, max.length_text()), (3, "3 time points".to_string()), "{name}");
            for (t, f) in max.frames().unwrap().map(|f| f.unwrap()) {
                assert_eq!(f, Frame::U16(want(t, c, 60.0).mapv(|v| v as u16)), "{name} channel {c} time point {t}: the brightest slice");
                assert_eq!(max.read_page(t).unwrap(), f);
            }
            let mean = ctc::Stack::open_planes(&path, Planes { channel: Some(c), project: Some(Projection::Mean), slices: None, position: None }).unwrap();
            for (t, f) in mean.frames().unwrap().map(|f| f.unwrap()) {
                assert_eq!(f, Frame::F32(want(t, c, 30.0)), "{name} channel {c} time point {t}: the mean of 0, 20, 40, 60");
            }
        }
        let e = ctc::Stack::open(&path).unwrap_err();
        assert!(e.to_string().contains(name) && e.what.contains("2 channels × 4 z slices × 3 time points") && e.what.contains("--project max"), "{e}");
        let e = ctc::Stack::open_planes(&path, Planes { channel: None, project: Some(Projection::Max), slices: None, position: None }).unwrap_err();
        assert!(e.what.contains("--channel 1 to 2"), "{e}");
    }
    // Some slices only, as Fiji's start and stop slice.
    let path = fixture("zstack_ome.tif");
    for (range, max, mean) in [("1-2", 20.0, 10.0), ("4", 60.0, 60.0), ("2-4", 60.0, 40.0)] {
        let slices = Some(range.parse().unwrap());
        let m = ctc::Stack::open_planes(&path, Planes { channel: Some(2), project: Some(Projection::Max), slices, position: None }).unwrap();
        assert_eq!(m.read_page(1).unwrap(), Frame::U16(want(1, 2, max).mapv(|v| v as u16)), "slices {range}");
        let m = ctc::Stack::open_planes(&path, Planes { channel: Some(2), project: Some(Projection::Mean), slices, position: None }).unwrap();
        assert_eq!(m.read_page(2).unwrap(), Frame::F32(want(2, 2, mean)), "slices {range}");
    }
    let e = ctc::Stack::open_planes(&path, Planes { channel: Some(2), project: Some(Projection::Max), slices: Some("3-5".parse().unwrap()), position: None }).unwrap_err();
    assert!(e.to_string().contains("zstack_ome.tif") && e.what.contains("has 4 z slices; --slices 3-5 asks for slice 5"), "{e}");
    // A stack with no z axis has nothing to project.
    let e = ctc::Stack::open_planes(&fixture("multipage.tif"), Planes { channel: None, project: Some(Projection::Max), slices: None, position: None }).unwrap_err();
    assert!(e.to_string().contains("multipage.tif") && e.what.contains("no z slices to project"), "{e}");
    let e = ctc::Stack::open_planes(&fixture("hyperstack_imagej.tif"), Planes { channel: Some(1), project: Some(Projection::Max), slices: None, position: None }).unwrap_err();
    assert!(e.what.contains("no z slices to project") && e.what.contains("2 channels × 3 time points"), "{e}");
}

/// ImageJ's stacks over 4 GB, in miniature (tifffile's `truncate=True`):
/// one TIFF page for all images, their pixels one after another. 4 time
/// points of 6×5, pixel (y, x) of time point t holding 100·t + 5·y + x,
/// big-endian in u16 and, divided by 1000, in f32; and 3 time points × 4 z
/// slices, little-endian, 100·t + 20·z + 5·y + x.
#[test]
fn imagej_stacks_with_one_header_for_all_pages_are_read_page_by_page() {
    let want = |t: usize| Array2::from_shape_fn((6, 5), |(y, x)| (100 * t + 5 * y + x) as f32);
    let u16s = ctc::Stack::open(&fixture("imagej_big_u16.tif")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((u16s.time_points, u16s.dim), (4, (6, 5)));
    let frames: Vec<(usize, Frame)> = u16s.frames().unwrap().map(|f| f.unwrap()).collect();
    assert_eq!(frames.len(), 4);
    for (t, f) in &frames {
        assert_eq!(f, &Frame::U16(want(*t).mapv(|v| v as u16)), "u16 time point {t}");
        assert_eq!(&u16s.read_page(*t).unwrap(), f, "a frame alone is the frame in order");
    }
    let f32s = ctc::Stack::open(&fixture("imagej_big_f32.tif")).unwrap();
    for (t, f) in f32s.frames().unwrap().map(|f| f.unwrap()) {
        assert_eq!(f, Frame::F32(want(t).mapv(|v| (v as f64 / 1000.0) as f32)), "f32 time point {t}");
    }
    let path = fixture("imagej_big_zstack.tif");
    let e = ctc::Stack::open(&path).unwrap_err();
    assert!(e.what.contains("4 z slices × 3 time points") && e.what.contains("--project max"), "{e}");
    let max = ctc::Stack::open_planes(&path, Planes { channel: None, project: Some(Projection::Max), slices: Some("1-3".parse().unwrap()), position: None }).unwrap();
    assert_eq!(max.time_points, 3);
    for (t, f) in max.frames().unwrap().map(|f| f.unwrap()) {
        assert_eq!(f, Frame::U16(want(t).mapv(|v| v as u16 + 40)), "time point {t}: slice 3 is the brightest of 1-3");
    }
    // As label masks (a label stack saved by Fiji).
    let masks: Vec<_> = u16s.masks().unwrap().map(|m| m.unwrap().1).collect();
    assert_eq!(masks[3], want(3).mapv(|v| v as u32));
}

/// A stack whose description promises more images than its file holds, or
/// whose one page is compressed, is refused by name before any frame is
/// read.
#[test]
fn imagej_stacks_cut_short_or_compressed_are_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("imagej_big_u16.tif")).unwrap();
    // tifffile writes the pixels last: drop half of the last image.
    let short = d.path().join("short.tif");
    std::fs::write(&short, &bytes[..bytes.len() - 30]).unwrap();
    let e = ctc::Stack::open(&short).unwrap_err();
    assert!(e.to_string().contains("short.tif") && e.what.contains("4 images") && e.what.contains("ends after 3 of them") && e.what.contains("cut short"), "{e}");
    // The same description over one compressed page.
    let packed = d.path().join("packed.tif");
    let mut f = std::fs::File::create(&packed).unwrap();
    let mut tiff = tiff::encoder::TiffEncoder::new(&mut f).unwrap().with_compression(tiff::encoder::Compression::Deflate(Default::default()));
    let mut image = tiff.new_image::<tiff::encoder::colortype::Gray16>(5, 6).unwrap();
    image.encoder().write_tag(tiff::tags::Tag::ImageDescription, "ImageJ=1.54f\nimages=4\nframes=4\n").unwrap();
    image.write_data(&[7u16; 30]).unwrap();
    drop(f);
    let e = ctc::Stack::open(&packed).unwrap_err();
    assert!(e.to_string().contains("packed.tif") && e.what.contains("compressed"), "{e}");
    // A hyperstack of 5 channels × 6 time points over 12 pages says so
    // first, not which --channel to pick (none would read).
    let uneven = d.path().join("uneven.tif");
    let mut f = std::fs::File::create(&uneven).unwrap();
    let mut tiff = tiff::encoder::TiffEncoder::new(&mut f).unwrap();
    for _ in 0..12 {
        let mut image = tiff.new_image::<tiff::encoder::colortype::Gray16>(5, 6).unwrap();
        image.encoder().write_tag(tiff::tags::Tag::ImageDescription, "ImageJ=1.54f\nimages=12\nchannels=5\nframes=6\nhyperstack=true\n").unwrap();
        image.write_data(&[7u16; 30]).unwrap();
    }
    drop(f);
    for planes in [ctc::Planes::default(), ctc::Planes { channel: Some(2), ..ctc::Planes::default() }] {
        let e = ctc::Stack::open_planes(&uneven, planes).unwrap_err();
        assert!(e.what.contains("says it holds 5 channels × 6 time points but has 12 pages"), "{e}");
    }
}

/// A CTC 3D frame file: its pages are z slices, slice z holding
/// 20·z + 5·y + x.
#[test]
fn a_frame_file_of_z_slices_is_read_as_their_projection() {
    let path = fixture("zframe_pages.tif");
    let index = Array2::from_shape_fn((6, 5), |(y, x)| (5 * y + x) as f32);
    let e = ctc::read_frame_planes(&fixture("u16_none.tif"), Planes { project: Some(Projection::Max), ..Planes::default() }).unwrap_err();
    assert!(e.path.ends_with("u16_none.tif") && e.what.contains("has no z slices to project (one plane)"), "{e}");
    // One RGB page (as tifffile saves three planes by default) says so, and how to save slices.
    let e = ctc::read_frame_planes(&fixture("rgb.tif"), Planes { project: Some(Projection::Max), ..Planes::default() }).unwrap_err();
    assert!(e.what.contains("one page of 3 samples a pixel (RGB, 8-bit)") && e.what.contains("photometric='minisblack'") && e.what.contains("--channel 1 to 3"), "{e}");
    let max = ctc::read_frame_planes(&path, Planes { channel: None, project: Some(Projection::Max), slices: None, position: None }).unwrap();
    assert_eq!(max, Frame::U16(index.mapv(|v| v as u16 + 60)));
    let mean = ctc::read_frame_planes(&path, Planes { channel: None, project: Some(Projection::Mean), slices: None, position: None }).unwrap();
    assert_eq!(mean, Frame::F32(index.mapv(|v| v + 30.0)));
    assert_eq!(ctc::read_frame_planes(&path, Planes { channel: Some(1), project: Some(Projection::Max), slices: None, position: None }).unwrap(), max);
    let second = ctc::read_frame_planes(&path, Planes { channel: None, project: Some(Projection::Max), slices: Some("2".parse().unwrap()), position: None }).unwrap();
    assert_eq!(second, Frame::U16(index.mapv(|v| v as u16 + 20)), "slice 2 alone");
    let e = ctc::read_frame_planes(&path, Planes { channel: None, project: Some(Projection::Max), slices: Some("5".parse().unwrap()), position: None }).unwrap_err();
    assert!(e.what.contains("has 4 z slices"), "{e}");
    let e = ctc::read_frame_planes(&path, Planes { channel: Some(2), project: Some(Projection::Max), slices: None, position: None }).unwrap_err();
    assert!(e.to_string().contains("zframe_pages.tif") && e.what.contains("read as z slices") && e.what.contains("no channel 2"), "{e}");
    let e = ctc::read_frame(&path).unwrap_err();
    assert!(e.what.contains("--project max"), "{e}");
    // Colour pages: the channel is a sample of each pixel, the pages slices.
    let d = tempfile::tempdir().unwrap();
    let rgb = d.path().join("t000.tif");
    let mut f = std::fs::File::create(&rgb).unwrap();
    let mut tiff = tiff::encoder::TiffEncoder::new(&mut f).unwrap();
    tiff.write_image::<tiff::encoder::colortype::RGB8>(2, 1, &[1, 2, 3, 4, 5, 6]).unwrap();
    tiff.write_image::<tiff::encoder::colortype::RGB8>(2, 1, &[7, 0, 9, 0, 11, 0]).unwrap();
    drop(f);
    assert_eq!(ctc::read_frame_planes(&rgb, Planes { channel: Some(2), project: Some(Projection::Max), slices: None, position: None }).unwrap(), Frame::U8(ndarray::array![[2, 11]]));
    // A frame file holding several time points is a stack, not a frame.
    let e = ctc::read_frame_planes(&fixture("zstack_imagej.tif"), Planes { channel: Some(1), project: Some(Projection::Max), slices: None, position: None }).unwrap_err();
    assert!(e.what.contains("3 time points") && e.what.contains("one time point"), "{e}");
}

#[test]
fn frames_of_different_sizes_are_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    ctc::write_frame(&d.path().join("t000.tif"), &Frame::U8(Array2::zeros((4, 5)))).unwrap();
    ctc::write_frame(&d.path().join("t001.tif"), &Frame::U8(Array2::zeros((4, 5)))).unwrap();
    ctc::write_frame(&d.path().join("t002.tif"), &Frame::U8(Array2::zeros((5, 5)))).unwrap();
    let seq = ctc::Sequence::open(d.path()).unwrap();
    let results: Vec<_> = seq.frames().collect();
    assert!(results[0].is_ok() && results[1].is_ok());
    let e = results[2].as_ref().unwrap_err();
    assert!(e.path.ends_with("t002.tif") && e.what.contains("5×5") && e.what.contains("5×4"), "{e}");
}

#[test]
fn real_ctc_data_reads_when_present() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ctc");
    if !root.is_dir() {
        eprintln!("skipped: {} is absent (real CTC data lives only beside the CI checkout)", root.display());
        return;
    }
    let seq = ctc::Sequence::open(&root.join("PhC-C2DL-PSC/02")).unwrap();
    assert_eq!(seq.len(), 50);
    let (t, f) = seq.frames().next().unwrap().unwrap();
    assert_eq!((t, f.dim()), (0, (576, 720)));
    let hela = ctc::Sequence::open(&root.join("Fluo-N2DL-HeLa/02")).unwrap();
    let (_, f) = hela.frames().next().unwrap().unwrap();
    assert!(matches!(f, Frame::U16(_)));
    assert_eq!(f.dim(), (700, 1100));
    let truth = ctc::Truth::open(&root.join("Fluo-N2DH-SIM+/01_GT")).unwrap();
    let (files, tracks) = truth.tra.unwrap();
    assert_eq!(files.len(), 65);
    assert!(tracks.iter().any(|t| t.parent != 0), "SIM+ has divisions");
    let st = ctc::Truth::open(&root.join("PhC-C2DL-PSC/02_ST")).unwrap();
    assert_eq!(st.seg.unwrap().len(), 50);
    let res = root.join("Fluo-N2DL-HeLa/01_RES");
    assert_eq!(ctc::validate_result(&res).unwrap(), vec![], "a real tracker's result validates");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = ctc::decode_frame(Path::new("x.tif"), &bytes);
        let _ = ctc::decode_mask(Path::new("x.tif"), &bytes);
    }

    #[test]
    fn damaged_tiffs_never_panic(idx in proptest::collection::vec((0usize..5000, any::<u8>()), 1..8), cut in 0usize..5000,
                                 which in 0usize..4) {
        let name = ["u16_lzw.tif", "u16_tiled_deflate.tif", "u16_zstd.tif", "u8_strips.tif"][which];
        let mut bytes = std::fs::read(fixture(name)).unwrap();
        for (i, b) in idx { let n = bytes.len(); bytes[i % n] = b; }
        bytes.truncate(cut.max(8));
        let _ = ctc::decode_frame(Path::new("x.tif"), &bytes);
        let _ = ctc::decode_mask(Path::new("x.tif"), &bytes);
    }

    #[test]
    fn arbitrary_track_text_never_panics(text in "\\PC{0,200}") {
        let _ = ctc::parse_tracks(&text, Path::new("res_track.txt"));
    }

    #[test]
    fn track_files_round_trip(recs in proptest::collection::btree_map(1u32..1000, (0usize..500, 0usize..50, 0u32..1000), 0..30)) {
        let want: Vec<ctc::TrackRecord> = recs.iter().map(|(&label, &(begin, len, p))| {
            ctc::TrackRecord { label, begin, end: begin + len, parent: if p == label { 0 } else { p } }
        }).collect();
        let text: String = want.iter().map(|r| format!("{} {} {} {}\n", r.label, r.begin, r.end, r.parent)).collect();
        let parsed = ctc::parse_tracks(&text, Path::new("t.txt")).unwrap();
        prop_assert_eq!(parsed, want);
    }
}

fn zarr_fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zarr").join(name)
}

/// OME-Zarr written by zarr-python (tests/fixtures/zarr/make_fixtures.py):
/// NGFF 0.4 on Zarr v2 with Blosc, 3 time points × 2 channels × 4 z slices
/// of 6×5 holding 100·t + 20·z + 5·c + 5·y + x; NGFF 0.5 on Zarr v3 with
/// Zstandard, 4 time points of float32 100·t + 5·y + x; and a label image.
#[test]
fn zarr_group_metadata_that_is_not_json_is_named() {
    let d = tempfile::tempdir().unwrap();
    let z = d.path().join("image.zarr");
    std::fs::create_dir(&z).unwrap();
    std::fs::write(z.join(".zgroup"), r#"{"zarr_format": 2}"#).unwrap();
    std::fs::write(z.join(".zattrs"), "{not json").unwrap();
    let e = ctc::ZarrImage::open(&z, Planes::default()).unwrap_err();
    assert!(e.path == z && e.what.contains("cannot read its group metadata (.zgroup, .zattrs)") && e.what.contains(".zattrs"), "{e}");
}

#[test]
fn ome_zarr_images_are_read_a_time_point_at_a_time() {
    let want = |t: usize, c: usize, z: f32| Array2::from_shape_fn((6, 5), |(y, x)| (100 * t + 5 * c + 5 * y + x) as f32 + z);
    let v04 = zarr_fixture("v04.zarr");
    assert!(ctc::is_zarr(&v04) && !ctc::is_zarr(&fixture("u16_none.tif")));
    for c in 1..=2 {
        let max = ctc::ZarrImage::open(&v04, Planes { channel: Some(c), project: Some(Projection::Max), ..Planes::default() }).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((max.time_points, max.dim), (3, (6, 5)));
        let frames: Vec<(usize, Frame)> = max.frames().map(|f| f.unwrap()).collect();
        assert_eq!(frames.len(), 3);
        for (t, f) in frames {
            assert_eq!(f, Frame::U16(want(t, c, 60.0).mapv(|v| v as u16)), "channel {c} time point {t}: the brightest slice");
        }
        let mean = ctc::ZarrImage::open(&v04, Planes { channel: Some(c), project: Some(Projection::Mean), slices: Some("2-3".parse().unwrap()), position: None }).unwrap();
        assert_eq!(mean.read(2).unwrap(), Frame::F32(want(2, c, 30.0)), "the mean of slices 2 and 3: 20 and 40");
    }
    let v05 = ctc::ZarrImage::open(&zarr_fixture("v05.zarr"), Planes::default()).unwrap();
    assert_eq!(v05.time_points, 4);
    assert_eq!(v05.read(3).unwrap(), Frame::F32(want(3, 0, 0.0)));
    let labels = ctc::ZarrImage::open(&v04.join("labels/cells"), Planes::default()).unwrap();
    let masks: Vec<_> = labels.masks().map(|m| m.unwrap().1).collect();
    assert_eq!(masks.len(), 3);
    assert_eq!(masks[2], Array2::from_shape_fn((6, 5), |(y, _)| if y < 3 { 3 } else { 4 }));
    // Refusals name the folder and what to do.
    for (path, planes, says) in [
        (&v04, Planes::default(), "(1: GFP, 2: DAPI); --channel 1 to 2"),
        (&v04, Planes::from(Some(1)), "--project max"),
        (&v04, Planes::from(Some(3)), "there is no channel 3"),
        (&v04, Planes { channel: Some(1), project: Some(Projection::Max), slices: Some("3-5".parse().unwrap()), position: None }, "has 4 z slices"),
        (&zarr_fixture("v05.zarr"), Planes { channel: None, project: Some(Projection::Max), slices: None, position: None }, "no z slices to project"),
        (&v04.join("labels"), Planes::default(), "not an OME-Zarr image"),
    ] {
        let e = ctc::ZarrImage::open(path, planes).unwrap_err();
        assert!(e.to_string().contains(path.file_name().unwrap().to_str().unwrap()) && e.what.contains(says), "{e}");
    }
    assert!(v05.read(4).unwrap_err().what.contains("no frame 4"));
    // Chunks of two time points (gzip), read through the cache of decoded
    // chunks, in order and out of order.
    let tchunk = ctc::ZarrImage::open(&zarr_fixture("tchunk.zarr"), Planes::default()).unwrap();
    let frames: Vec<(usize, Frame)> = tchunk.frames().map(|f| f.unwrap()).collect();
    assert_eq!(frames.len(), 5);
    for (t, f) in &frames {
        assert_eq!(f, &Frame::U16(want(*t, 0, 0.0).mapv(|v| v as u16)), "time point {t}");
    }
    assert_eq!(tchunk.read(1).unwrap(), frames[1].1);
}

/// Channels by the names the files give them: an NDTiff acquisition's index,
/// an OME-Zarr image's omero labels, an OME-TIFF's `<Channel Name=…>`
/// (each written by its own package); inputs that name none are refused
/// by name.
#[test]
fn channels_are_found_by_the_names_the_files_give_them() {
    use ctc::ChannelArg;
    let ndtiff = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ndtiff/two_channels");
    let named = |names: &[&str]| Some(names.iter().map(|n| n.to_string()).collect::<Vec<_>>());
    assert_eq!(ctc::channel_names(&ndtiff).unwrap(), named(&["DAPI", "GFP"]));
    assert_eq!(ctc::channel_names(&zarr_fixture("v04.zarr")).unwrap(), named(&["GFP", "DAPI"]));
    assert_eq!(ctc::channel_names(&fixture("hyperstack_ome.tif")).unwrap(), named(&["GFP", "DAPI"]));
    for unnamed in [zarr_fixture("v05.zarr"), fixture("hyperstack_imagej.tif"), Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences/fluo/01")] {
        assert_eq!(ctc::channel_names(&unnamed).unwrap(), None, "{}", unnamed.display());
    }
    let dapi = ChannelArg::Name("DAPI".into());
    assert_eq!(dapi.number_in(&ndtiff).unwrap(), 1);
    assert_eq!(dapi.number_in(&fixture("hyperstack_ome.tif")).unwrap(), 2);
    assert_eq!(ChannelArg::Name("gfp".into()).number_in(&zarr_fixture("v04.zarr")).unwrap(), 1);
    // The OME-TIFF's channel 2 by name is its channel 2 by number.
    let by = |c: usize| ctc::Stack::open_planes(&fixture("hyperstack_ome.tif"), Planes::from(Some(c))).unwrap().frames().unwrap().map(|f| f.unwrap().1).collect::<Vec<_>>();
    assert_eq!(by(dapi.number_in(&fixture("hyperstack_ome.tif")).unwrap()), by(2));
    let e = ChannelArg::Name("mCherry".into()).number_in(&ndtiff).unwrap_err();
    assert!(e.path == ndtiff && e.what.contains("no channel named \"mCherry\"; its channels are 1: DAPI, 2: GFP"), "{e}");
    let e = dapi.number_in(&fixture("hyperstack_imagej.tif")).unwrap_err();
    assert!(e.path.ends_with("hyperstack_imagej.tif") && e.what.contains("names no channels; give the channel by its number"), "{e}");
}

/// NDTiff written by Micro-Manager's own `ndtiff` package
/// (tests/fixtures/ndtiff/make_fixtures.py): channels DAPI and GFP, 3 z
/// slices, 4 time points of 32×24 holding 1000·t + 100·z + 10·c + (32·y + x) % 7;
/// and, written here, an 8-bit dataset and broken ones, refused by name.
#[test]
fn ndtiff_datasets_are_read_by_their_index() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ndtiff/two_channels");
    assert!(ctc::is_ndtiff(&data) && !ctc::is_ndtiff(&zarr_fixture("v04.zarr")));
    let want = |t: usize, z: usize, c: usize| Array2::from_shape_fn((24, 32), |(y, x)| (1000 * t + 100 * z + 10 * c + (32 * y + x) % 7) as u16);
    for c in 1..=2 {
        let max = ctc::NdTiff::open(&data, Planes { channel: Some(c), project: Some(Projection::Max), ..Planes::default() }).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((max.time_points, max.dim), (4, (24, 32)));
        let frames: Vec<(usize, Frame)> = max.frames().map(|f| f.unwrap()).collect();
        assert_eq!(frames.len(), 4);
        for (t, f) in frames {
            assert_eq!(f, Frame::U16(want(t, 2, c - 1)), "channel {c} time point {t}: the brightest slice");
        }
        let one = ctc::NdTiff::open(&data, Planes { channel: Some(c), project: Some(Projection::Mean), slices: Some("2".parse().unwrap()), position: None }).unwrap();
        assert_eq!(one.read(3).unwrap(), Frame::F32(want(3, 1, c - 1).mapv(f32::from)), "slice 2 alone");
    }
    for (planes, says) in [
        (Planes::default(), "holds 2 channels (1: DAPI, 2: GFP); --channel N"),
        (Planes::from(Some(2)), "3 z slices a time point"),
        (Planes::from(Some(3)), "there is no channel 3"),
        (Planes { channel: Some(1), project: Some(Projection::Max), slices: Some("2-4".parse().unwrap()), position: None }, "has 3 z slices"),
    ] {
        let e = ctc::NdTiff::open(&data, planes).unwrap_err();
        assert!(e.to_string().contains("two_channels") && e.what.contains(says), "{e}");
    }

    let d = tempfile::tempdir().unwrap();
    let eight = |t: usize| Frame::U8(Array2::from_shape_fn((16, 20), |(y, x)| ((50 * t + y + x) % 256) as u8));
    let dir = d.path().join("eight");
    write_ndtiff(&dir, &(0..3).map(|t| (serde_json::json!({"time": t}), eight(t))).collect::<Vec<_>>());
    let got = ctc::NdTiff::open(&dir, Planes::default()).unwrap();
    assert_eq!(got.frames().map(|f| f.unwrap().1).collect::<Vec<_>>(), (0..3).map(eight).collect::<Vec<_>>());
    // Refused by name: a missing time point, a time point short of a slice,
    // several positions, RGB pixels, an index cut short, pixels cut short.
    let broken = |name: &str, images: Vec<(serde_json::Value, Frame)>| {
        let dir = d.path().join(name);
        write_ndtiff(&dir, &images);
        dir
    };
    let cases = [
        (broken("gap", vec![(serde_json::json!({"time": 0}), eight(0)), (serde_json::json!({"time": 2}), eight(2))]), "lists time points 0 and 2 but none between them"),
        (broken("short", vec![(serde_json::json!({"time": 0, "z": 0}), eight(0)), (serde_json::json!({"time": 0, "z": 1}), eight(0)), (serde_json::json!({"time": 1, "z": 0}), eight(1))]), "gives time point 1 1 z slice(s) but time point 0 2"),
        (broken("positions", vec![(serde_json::json!({"time": 0, "position": 0}), eight(0)), (serde_json::json!({"time": 0, "position": 1}), eight(0))]), "holds 2 positions (0, 1); --position N"),
    ];
    for (dir, says) in cases {
        let e = ctc::NdTiff::open(&dir, Planes::default()).unwrap_err();
        assert!(e.to_string().contains(dir.file_name().unwrap().to_str().unwrap()) && e.what.contains(says), "{e}");
    }
    // A time point with an image of another channel but none of the one read.
    let one_short = broken("one_short", vec![
        (serde_json::json!({"time": 0, "channel": "DAPI"}), eight(0)),
        (serde_json::json!({"time": 0, "channel": "GFP"}), eight(0)),
        (serde_json::json!({"time": 1, "channel": "GFP"}), eight(1)),
        (serde_json::json!({"time": 2, "channel": "DAPI"}), eight(2)),
        (serde_json::json!({"time": 2, "channel": "GFP"}), eight(2)),
    ]);
    let e = ctc::NdTiff::open(&one_short, Planes::from(Some(1))).unwrap_err();
    assert!(e.what.contains("has no image of channel DAPI at time point 1, where other channels have one"), "{e}");
    assert_eq!(ctc::NdTiff::open(&one_short, Planes::from(Some(2))).unwrap().time_points, 3);
    // Channels named by laser lines: counted from 1 all the same, and said so.
    let lasers = broken("lasers", vec![(serde_json::json!({"time": 0, "channel": "488"}), eight(0)), (serde_json::json!({"time": 0, "channel": "561"}), eight(1))]);
    let e = ctc::NdTiff::open(&lasers, Planes::from(Some(561))).unwrap_err();
    assert!(e.what.contains("there is no channel 561 (channels count from 1: the one named 561 is --channel 2)"), "{e}");
    assert_eq!(ctc::NdTiff::open(&lasers, Planes::from(Some(2))).unwrap().read(0).unwrap(), eight(1));
    // Several positions, written by the ndtiff package: each read alone to
    // the pixel, by the number the index gives it.
    let three = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ndtiff/three_positions");
    assert_eq!(ctc::ndtiff_positions(&three).unwrap(), vec![0, 1, 2]);
    for p in 0..3 {
        let got = ctc::NdTiff::open(&three, Planes { position: Some(p), ..Planes::default() }).unwrap();
        let want: Vec<Frame> = (0..3).map(|t| Frame::U16(Array2::from_shape_fn((16, 20), |(y, x)| (1000 * t + 100 * p as usize + (20 * y + x) % 5) as u16))).collect();
        assert_eq!(got.frames().map(|f| f.unwrap().1).collect::<Vec<_>>(), want);
    }
    // Several positions: each read alone by the number the index gives it.
    let plate = broken("plate", (0..3).flat_map(|t| [3, 7].map(|p| (serde_json::json!({"time": t, "position": p}), eight(t + p)))).collect());
    assert_eq!(ctc::ndtiff_positions(&plate).unwrap(), vec![3, 7]);
    assert_eq!(ctc::ndtiff_positions(&dir).unwrap(), Vec::<i64>::new());
    for p in [3, 7] {
        let got = ctc::NdTiff::open(&plate, Planes { position: Some(p), ..Planes::default() }).unwrap();
        let want: Vec<Frame> = (0..3).map(|t| eight(t + p as usize)).collect();
        assert_eq!(got.frames().map(|f| f.unwrap().1).collect::<Vec<_>>(), want);
    }
    for (data, p, says) in [(&plate, 0, "has the positions 3, 7; there is no position 0"), (&dir, 0, "has no positions (one field of view)")] {
        let e = ctc::NdTiff::open(data, Planes { position: Some(p), ..Planes::default() }).unwrap_err();
        assert!(e.what.contains(says), "{e}");
    }
    let stack = d.path().join("stack.tif");
    ctc::write_frame(&stack, &eight(0)).unwrap();
    let e = ctc::RawFrames::open_planes(&stack, Planes { position: Some(3), ..Planes::default() }).unwrap_err();
    assert!(e.path == stack && e.what.contains("not a Micro-Manager NDTiff acquisition"), "{e}");
    // A 12-bit camera's pixels (type 4) are two bytes each, as 16-bit ones.
    let twelve = Frame::U16(Array2::from_shape_fn((4, 6), |(y, x)| (4000 + 10 * y + x) as u16));
    let cam = broken("twelve", vec![(serde_json::json!({"time": 0}), twelve.clone())]);
    let mut index = std::fs::read(cam.join("NDTiff.index")).unwrap();
    let (kind, compression) = (index.len() - 32 + 12, index.len() - 32 + 16);
    index[kind] = 4;
    std::fs::write(cam.join("NDTiff.index"), &index).unwrap();
    assert_eq!(ctc::NdTiff::open(&cam, Planes::default()).unwrap().read(0).unwrap(), twelve);
    index[compression] = 1;
    std::fs::write(cam.join("NDTiff.index"), &index).unwrap();
    assert!(ctc::NdTiff::open(&cam, Planes::default()).unwrap_err().what.contains("compressed"));
    let rgb = broken("rgb", vec![(serde_json::json!({"time": 0}), eight(0))]);
    let mut index = std::fs::read(rgb.join("NDTiff.index")).unwrap();
    let at = index.len() - 32 + 12; // the pixel type
    index[at] = 2;
    std::fs::write(rgb.join("NDTiff.index"), &index).unwrap();
    assert!(ctc::NdTiff::open(&rgb, Planes::default()).unwrap_err().what.contains("RGB"));
    let tiles = broken("tiles", vec![(serde_json::json!({"time": 0, "row": 0, "column": 0}), eight(0)), (serde_json::json!({"time": 0, "row": 0, "column": 1}), eight(0))]);
    assert!(ctc::NdTiff::open(&tiles, Planes::default()).unwrap_err().what.contains("2 tile columns"));
    std::fs::write(rgb.join("NDTiff.index"), &index[..index.len() - 10]).unwrap();
    let e = ctc::NdTiff::open(&rgb, Planes::default()).unwrap_err();
    assert!(e.path.ends_with("NDTiff.index") && e.what.contains("cut short"), "{e}");
    let cut = d.path().join("eight_cut");
    write_ndtiff(&cut, &(0..3).map(|t| (serde_json::json!({"time": t}), eight(t))).collect::<Vec<_>>());
    let file = cut.join("data_NDTiffStack.tif");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 100]).unwrap();
    let data = ctc::NdTiff::open(&cut, Planes::default()).unwrap();
    assert!(data.read(1).is_ok());
    let e = data.read(2).unwrap_err();
    assert!(e.path == file && e.what.contains("cut short"), "{e}");
}
