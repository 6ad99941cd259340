//! `cellstream train` from the command line: files written, resume, settings, and refusals of bad input.
mod model_support;

use std::path::Path;
use std::process::{Command, Output};

use model_support::{disks, write_ctc};

fn cellstream(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cellstream")).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Runs `cellstream` with `args` and checks it fails, says `want`, and leaves no checkpoint at `out`.
fn assert_refused(args: &[&str], want: &str, out: &Path) {
    let o = cellstream(args);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(text(&o).contains(want), "{args:?}: expected {want:?} in\n{}", text(&o));
    assert!(!out.exists(), "{args:?} left a checkpoint behind");
}

/// A 48×40 sequence of 8 frames, truth on all but frame 3.
fn dataset(dir: &Path) {
    let (frames, masks) = disks(48, 40, 8, 3, 7);
    write_ctc(dir, &frames, &masks, &[0, 1, 2, 4, 5, 6, 7]);
}

const SMALL: &[&str] = &["--crop", "32", "--depth", "2", "--base-width", "4", "--window", "2", "--val-every", "2", "--threads", "1", "--device", "cpu"];
/// Two steps at a vanishing learning rate, so a run keeps the weights it starts from (`--init`).
const KEEP_WEIGHTS: &[&str] = &["--steps", "2", "--lr", "1e-12", "--min-lr", "0", "--crop", "32", "--window", "2", "--val-every", "2", "--threads", "1", "--device", "cpu", "--seed", "9"];

#[test]
fn train_writes_checkpoint_settings_and_history_then_resumes() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    // Into a folder that is not there yet: made.
    let runs = d.path().join("runs");
    let out = runs.join("m.safetensors");
    let (data, out_s) = (d.path().join("01"), out.to_str().unwrap().to_string());
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", &out_s, "--steps", "4"];
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    let log = text(&o);
    assert!(log.contains("8 frames (truth: 7 GT SEG, 0 ST SEG, 0 TRA)") && log.contains("validation frames 7–7"), "{log}");

    let (config, meta) = cellstream::model::read_metadata(&out).unwrap();
    assert_eq!((config.depth, config.base_width, config.lstm), (2, 4, true));
    let best: cellstream::model::Progress = serde_json::from_str(&meta[cellstream::model::TRAINING_KEY]).unwrap();
    assert!(best.best_step == Some(best.step) && matches!(best.step, 2 | 4), "{best:?}");
    let (_, meta) = cellstream::model::read_metadata(&runs.join("m.last.safetensors")).unwrap();
    let progress: cellstream::model::Progress = serde_json::from_str(&meta[cellstream::model::TRAINING_KEY]).unwrap();
    assert_eq!(progress.step, 4);
    let settings: cellstream::model::TrainConfig = toml::from_str(&std::fs::read_to_string(runs.join("m.toml")).unwrap()).unwrap();
    assert_eq!((settings.crop, settings.window, settings.steps), (32, 2, 4));
    let history = std::fs::read_to_string(runs.join("m.history.csv")).unwrap();
    let rows: Vec<&str> = history.lines().collect();
    assert_eq!(rows[0], "epoch,step,loss,val_seg,lr,seconds");
    assert_eq!(rows.len(), 5, "{history}");
    assert!(rows[2].starts_with("1,2,") && rows[2].split(',').nth(3).is_some_and(|v| !v.is_empty()), "{history}");

    // Without --resume or --overwrite the run is refused and nothing changes.
    let o = cellstream(&args);
    assert!(!o.status.success() && text(&o).contains("--resume"), "{}", text(&o));

    // --resume takes the saved settings and continues the step count.
    let o = cellstream(&["train", "--out", &out_s, "--resume", "--steps", "6"]);
    assert!(o.status.success(), "{}", text(&o));
    let (_, meta) = cellstream::model::read_metadata(&runs.join("m.last.safetensors")).unwrap();
    let progress: cellstream::model::Progress = serde_json::from_str(&meta[cellstream::model::TRAINING_KEY]).unwrap();
    assert_eq!(progress.step, 6);
    let history = std::fs::read_to_string(runs.join("m.history.csv")).unwrap();
    assert_eq!(history.lines().count(), 7, "{history}");
    assert!(history.lines().last().unwrap().starts_with("3,6,"));

    // A time limit that ends the run before its next validation validates
    // its last step, and leaves the latest weights for --resume.
    let o = cellstream(&["train", "--out", &out_s, "--resume", "--steps", "100", "--val-every", "50", "--max-minutes", "0.0001"]);
    assert!(o.status.success() && text(&o).contains("time limit reached"), "{}", text(&o));
    let history = std::fs::read_to_string(runs.join("m.history.csv")).unwrap();
    let last = history.lines().last().unwrap();
    assert!(last.split(',').nth(3).is_some_and(|v| !v.is_empty()), "no validation at the time limit: {history}");
    let (_, meta) = cellstream::model::read_metadata(&runs.join("m.last.safetensors")).unwrap();
    let progress: cellstream::model::Progress = serde_json::from_str(&meta[cellstream::model::TRAINING_KEY]).unwrap();
    assert!((6..50).contains(&progress.step), "{progress:?}");

    // Resuming with another architecture is refused.
    let o = cellstream(&["train", "--out", &out_s, "--resume", "--steps", "8", "--base-width", "8"]);
    assert!(!o.status.success() && text(&o).contains("differs from the settings") && text(&o).contains("base width 4"), "{}", text(&o));
}

#[test]
fn sequences_of_one_name_are_told_apart_and_resume_elsewhere_names_the_data() {
    // Two datasets each holding a sequence 01, given by paths relative to
    // the folder the run starts in.
    let d = tempfile::tempdir().unwrap();
    dataset(&d.path().join("a"));
    dataset(&d.path().join("b"));
    let mut args = vec!["train", "--data", "a/01", "b/01", "--out", "m.safetensors", "--steps", "2"];
    args.extend_from_slice(SMALL);
    let o = Command::new(env!("CARGO_BIN_EXE_cellstream")).args(&args).current_dir(d.path()).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let log = text(&o);
    assert!(log.contains("a/01: 8 frames") && log.contains("b/01: 8 frames"), "{log}");
    // From another folder the saved relative paths do not resolve: said so
    // (not a bare "cannot read"), and the run is left as it was.
    let out = d.path().join("m.safetensors");
    let before = std::fs::read(&out).unwrap();
    let o = cellstream(&["train", "--out", out.to_str().unwrap(), "--resume", "--steps", "4"]);
    assert!(!o.status.success(), "{}", text(&o));
    let e = text(&o);
    assert!(e.contains("a/01: not found from here") && e.contains("m.toml") && e.contains("give --data"), "{e}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
    // Given --data, it continues.
    let (a, b) = (d.path().join("a/01"), d.path().join("b/01"));
    let o = cellstream(&["train", "--out", out.to_str().unwrap(), "--resume", "--steps", "4", "--data", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn preview_pictures_each_validation_and_curves_are_drawn() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let out = d.path().join("m.safetensors");
    let previews = d.path().join("previews");
    let data = d.path().join("01");
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "5", "--preview", previews.to_str().unwrap()];
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    // Validations at steps 2, 4 and 5 (the last step): epochs 1, 2 and 3.
    let mut names: Vec<String> = std::fs::read_dir(&previews).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["epoch001.png", "epoch002.png", "epoch003.png"]);
    // The 40×48 frame (width×height) is shown whole, enlarged 5× (to 200×240), beside its truth under a header.
    let img = image::open(previews.join("epoch001.png")).unwrap();
    assert_eq!((img.width(), img.height()), (2 * 200 + 8, 240 + 46));
    let curves = image::open(d.path().join("m.curves.png")).unwrap();
    assert_eq!((curves.width(), curves.height()), cellstream::model::CURVES_SIZE);
    let rows = cellstream::model::read_history(&d.path().join("m.history.csv")).unwrap();
    assert_eq!(rows.iter().filter(|r| r.val_seg.is_some()).count(), 3);
    // The preview folder is kept in the settings, so --resume goes on writing there.
    let settings: cellstream::model::TrainConfig = toml::from_str(&std::fs::read_to_string(d.path().join("m.toml")).unwrap()).unwrap();
    assert_eq!(settings.preview.as_deref(), Some(previews.as_path()));
    // Run again with --overwrite for fewer steps: only its own previews remain.
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "2", "--overwrite", "--preview", previews.to_str().unwrap()];
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    let names: Vec<String> = std::fs::read_dir(&previews).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["epoch001.png"]);
}

#[test]
fn config_file_with_flag_override_and_no_lstm() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let settings = d.path().join("s.toml");
    let data = d.path().join("01");
    std::fs::write(&settings, format!("data = [{:?}]\nsteps = 2\ncrop = 64\nwindow = 2\nval_every = 2\ninterface_weight = 2.0\ndevice = \"cpu\"\nthreads = 1\n[model]\ndepth = 2\nbase_width = 4\nnorm = \"group\"\n", data.to_str().unwrap())).unwrap();
    let out = d.path().join("p.safetensors");
    let o = cellstream(&["train", "--config", settings.to_str().unwrap(), "--out", out.to_str().unwrap(), "--crop", "32", "--no-lstm", "--frames", "0-5", "--interface-weight", "4"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("6 frames"), "{}", text(&o));
    let used: cellstream::model::TrainConfig = toml::from_str(&std::fs::read_to_string(d.path().join("p.toml")).unwrap()).unwrap();
    assert_eq!((used.crop, used.steps, used.model.lstm, used.model.norm), (32, 2, false, cellstream::model::Norm::Group));
    assert_eq!(used.frames, Some("0-5".parse().unwrap()));
    assert_eq!(used.interface_weight, 4.0, "the flag overrides the file");
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let data = d.path().join("01");
    let data = data.to_str().unwrap();
    let out = d.path().join("x.safetensors");
    let out = out.to_str().unwrap();
    let (pt, dataset_dir, gt, missing) = (d.path().join("x.pt"), d.path().to_path_buf(), d.path().join("01_GT"), d.path().join("none.toml"));
    let a_file = d.path().join("a_file");
    std::fs::write(&a_file, "not a folder").unwrap();
    std::fs::create_dir(d.path().join("noseq")).unwrap();
    let in_data = d.path().join("01/x.safetensors");
    let last = d.path().join("x.last.safetensors");
    let (gt_seg, noseq) = (gt.join("SEG"), d.path().join("noseq"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--data", "/no/such/dir", "--out", out], "/no/such/dir"),
        (vec!["--data", data, "--out", out, "--frames", "9-2"], "ends before it starts"),
        (vec!["--data", data, "--out", out, "--frames", "20-30"], "no frames in the range 20-30"),
        (vec!["--data", data, "--out", out, "--crop", "30"], "multiple of 8"),
        (vec!["--data", data, "--out", out, "--device", "cuda:7"], "cuda:7"),
        (vec!["--data", data, "--out", out, "--device", "tpu"], "unknown device"),
        (vec!["--data", data, "--out", out, "--norm", "layer"], "unknown normalisation"),
        (vec!["--data", data, "--out", out, "--interface-weight", "0"], "interface_weight must be a positive number"),
        (vec!["--data", data, "--out", pt.to_str().unwrap(), "--steps", "1"], "must end in .safetensors"),
        (vec!["--data", data, "--out", last.to_str().unwrap(), "--steps", "1", "--overwrite"], "names the latest checkpoint of a run"),
        (vec!["--data", dataset_dir.to_str().unwrap(), "--out", out, "--window", "9", "--steps", "1"], "01 has 8 frames, fewer than the window of 9 (--window 8 or less)"),
        (vec!["--data", gt.to_str().unwrap(), "--out", out], "is a truth or result folder, not a sequence; --data takes the sequence folder"),
        (vec!["--data", gt_seg.to_str().unwrap(), "--out", out], "is a truth or result folder"),
        (vec!["--data", data, "--out", out, "--threads", "0"], "threads must be at least 1"),
        (vec!["--data", data, "--out", in_data.to_str().unwrap(), "--steps", "1"], "lies inside"),
        (vec!["--data", data, "--out", out, "--steps", "1", "--preview", gt_seg.to_str().unwrap()], "lies inside"),
        (vec!["--out", out, "--config", missing.to_str().unwrap()], "none.toml"),
        (vec!["--data", data, "--out", out, "--steps", "1", "--preview", a_file.to_str().unwrap()], "cannot create the preview folder"),
        (vec!["--data", noseq.to_str().unwrap(), "--out", out], "neither a sequence folder"),
    ];
    for (args, want) in cases {
        let mut all = vec!["train"];
        all.extend(args.iter());
        assert_refused(&all, want, Path::new(out));
    }
    // A settings file beside the checkpoint, not written by a run: not
    // replaced unasked, and never when it is the --config read.
    let mine = d.path().join("x.toml");
    std::fs::write(&mine, "# my settings\nsteps = 1\n").unwrap();
    assert_refused(&["train", "--data", data, "--out", out, "--steps", "1"], "x.toml: exists, and this run would write it", Path::new(out));
    assert_refused(&["train", "--data", data, "--out", out, "--config", mine.to_str().unwrap(), "--overwrite"], "is the settings file this run writes", Path::new(out));
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "# my settings\nsteps = 1\n");
}

/// libtorch's CUDA library must be a NEEDED entry of the binary, or CUDA is
/// silently unusable (the linker's --as-needed drops it; build.rs keeps it).
#[test]
fn binary_needs_libtorch_cuda_when_libtorch_has_it() {
    let Some(libtorch) = option_env!("LIBTORCH") else {
        eprintln!("skipped: LIBTORCH was not set at build time");
        return;
    };
    if !Path::new(libtorch).join("lib/libtorch_cuda.so").exists() {
        eprintln!("skipped: {libtorch}/lib has no libtorch_cuda.so (CPU-only libtorch)");
        return;
    }
    let needed = elf_needed(Path::new(env!("CARGO_BIN_EXE_cellstream")));
    assert!(needed.iter().any(|n| n == "libtorch_cuda.so"), "NEEDED: {needed:?}");
    assert!(needed.iter().any(|n| n == "libtorch_cpu.so" || n == "libtorch.so"), "NEEDED: {needed:?}");
}

/// The DT_NEEDED entries of a 64-bit little-endian ELF file.
fn elf_needed(path: &Path) -> Vec<String> {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..4], b"\x7fELF", "{} is not ELF", path.display());
    assert_eq!((b[4], b[5]), (2, 1), "only 64-bit little-endian ELF is parsed here");
    let u16_at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum) = (u64_at(0x28), u16_at(0x3A), u16_at(0x3C));
    let section = |i: usize| shoff + i * shentsize;
    let dynamic = (0..shnum).map(section).find(|&s| u32_at(s + 4) == 6).expect("no SHT_DYNAMIC section");
    let strtab = u64_at(section(u32_at(dynamic + 40)) + 24);
    let (off, size) = (u64_at(dynamic + 24), u64_at(dynamic + 32));
    (off..off + size)
        .step_by(16)
        .take_while(|&e| u64_at(e) != 0)
        .filter(|&e| u64_at(e) == 1)
        .map(|e| {
            let start = strtab + u64_at(e + 8);
            let end = start + b[start..].iter().position(|&c| c == 0).unwrap();
            String::from_utf8_lossy(&b[start..end]).into_owned()
        })
        .collect()
}

/// The learned weights of a checkpoint (BatchNorm's running statistics left out), by name.
fn learned_weights(path: &Path) -> Vec<(String, Vec<f32>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = st.names().into_iter().filter(|n| !n.contains("running") && !n.contains("num_batches")).map(str::to_string).collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let v = st.tensor(&n).unwrap().data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
            (n, v)
        })
        .collect()
}

fn max_difference(a: &[(String, Vec<f32>)], b: &[(String, Vec<f32>)]) -> f32 {
    assert_eq!(a.iter().map(|(n, _)| n).collect::<Vec<_>>(), b.iter().map(|(n, _)| n).collect::<Vec<_>>());
    a.iter().zip(b).flat_map(|((_, x), (_, y))| x.iter().zip(y).map(|(p, q)| (p - q).abs())).fold(0.0, f32::max)
}

#[test]
fn init_starts_a_fresh_run_from_a_checkpoints_weights() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let data = d.path().join("01");
    let data = data.to_str().unwrap();
    let path = |name: &str| d.path().join(name).to_str().unwrap().to_string();
    let (first, tuned, fresh) = (path("first.safetensors"), path("tuned.safetensors"), path("fresh.safetensors"));
    let mut args = vec!["train", "--data", data, "--out", &first, "--steps", "4"];
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));

    // A vanishing learning rate keeps the starting weights: --init loaded them.
    // The architecture comes from the checkpoint (SMALL's flags are not repeated).
    let tiny = KEEP_WEIGHTS;
    let mut args = vec!["train", "--data", data, "--out", &tuned, "--init", &first];
    args.extend_from_slice(tiny);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    let (config, _) = cellstream::model::read_metadata(Path::new(&tuned)).unwrap();
    assert_eq!((config.depth, config.base_width), (2, 4));
    let (_, meta) = cellstream::model::read_metadata(&d.path().join("tuned.last.safetensors")).unwrap();
    let progress: cellstream::model::Progress = serde_json::from_str(&meta[cellstream::model::TRAINING_KEY]).unwrap();
    assert_eq!(progress.step, 2, "the step count starts afresh");
    // The starting model is scored before the first step.
    assert!(text(&o).contains("step      0  val SEG") && text(&o).contains("(the --init model, before training)"), "{}", text(&o));
    let history = std::fs::read_to_string(d.path().join("tuned.history.csv")).unwrap();
    assert!(history.lines().nth(1).is_some_and(|r| r.starts_with("0,0,,0.")), "{history}");
    assert!(max_difference(&learned_weights(Path::new(&first)), &learned_weights(Path::new(&tuned))) < 1e-6);
    let settings: cellstream::model::TrainConfig = toml::from_str(&std::fs::read_to_string(d.path().join("tuned.toml")).unwrap()).unwrap();
    assert_eq!(settings.init.as_deref(), Some(Path::new(&first)), "the settings record the starting point");

    // A model fine-tuned in place: --init names the checkpoint --overwrite replaces.
    let in_place = path("in-place.safetensors");
    std::fs::copy(&first, &in_place).unwrap();
    let mut args = vec!["train", "--data", data, "--out", &in_place, "--init", &in_place, "--overwrite"];
    args.extend_from_slice(tiny);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(max_difference(&learned_weights(Path::new(&first)), &learned_weights(Path::new(&in_place))) < 1e-6);

    // Without --init the same run starts from random weights, far from them.
    let mut args = vec!["train", "--data", data, "--out", &fresh, "--depth", "2", "--base-width", "4"];
    args.extend_from_slice(tiny);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(max_difference(&learned_weights(Path::new(&first)), &learned_weights(Path::new(&fresh))) > 1e-3);

    // Refused, naming the reason, with nothing written: another architecture
    // (by flag or in --config's [model]), a missing checkpoint, a file that is no checkpoint, and --resume beside --init.
    let out = path("refused.safetensors");
    let not_a_model = d.path().join("01/t000.tif");
    let not_a_model = not_a_model.to_str().unwrap();
    let other_model = d.path().join("other.toml");
    std::fs::write(&other_model, "[model]\ndepth = 2\nbase_width = 8\n").unwrap();
    let other_model = other_model.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--init", &first, "--base-width", "8"], "differs from the settings"),
        (vec!["--init", &first, "--config", other_model], "differ from the architecture of the --init checkpoint"),
        (vec!["--init", "/no/such/model.safetensors"], "/no/such/model.safetensors"),
        (vec!["--init", not_a_model], "t000.tif"),
        (vec!["--init", &first, "--resume"], "--resume"),
    ];
    for (extra, want) in cases {
        let mut all = vec!["train", "--data", data, "--out", &out];
        all.extend_from_slice(tiny);
        all.extend(extra.iter());
        assert_refused(&all, want, Path::new(&out));
    }
}

/// `--init NAME` fine-tunes from a compiled-in model, so a user with only the
/// binary can start from it; the settings record the name.
#[test]
fn init_takes_a_compiled_in_model_by_name() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let data = d.path().join("01");
    let out = d.path().join("tuned.safetensors");
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--init", "nuclei"];
    args.extend_from_slice(KEEP_WEIGHTS);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/nuclei.safetensors");
    assert!(max_difference(&learned_weights(&shipped), &learned_weights(&out)) < 1e-6, "the run started from models/nuclei.safetensors");
    let settings: cellstream::model::TrainConfig = toml::from_str(&std::fs::read_to_string(d.path().join("tuned.toml")).unwrap()).unwrap();
    assert_eq!(settings.init.as_deref(), Some(Path::new("nuclei")));
    // A name that is neither a file nor compiled in is refused with the names there are.
    let refused = d.path().join("refused.safetensors");
    args[4] = refused.to_str().unwrap();
    args[6] = "nucleus";
    assert_refused(&args, "builtin, fluo, phase, colony, nuclei", &refused);
}

#[test]
fn train_invert_is_recorded_in_the_checkpoint_and_read_by_track() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let data = d.path().join("01");
    let out = d.path().join("inv.safetensors");
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--init", "colony", "--invert"];
    args.extend_from_slice(KEEP_WEIGHTS);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    let (config, _) = cellstream::model::read_metadata(&out).unwrap();
    assert!(config.invert, "the checkpoint records the inversion: {config:?}");
    let settings: cellstream::model::TrainConfig = toml::from_str(&std::fs::read_to_string(d.path().join("inv.toml")).unwrap()).unwrap();
    assert!(settings.model.invert);
    // `track` reads it from the checkpoint (tests/model.rs checks what it does with it).
    let res = d.path().join("R");
    let o = cellstream(&["track", data.to_str().unwrap(), "--model", out.to_str().unwrap(), "--out", res.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let record = std::fs::read_to_string(res.join("cellstream.toml")).unwrap();
    assert!(record.contains("invert = false") && record.contains("model_trained_on_inverted_frames = true"), "{record}");
}

/// A dataset folder's sequences without truth (CTC's test sequences) are
/// left out of training, said so; one given by itself is refused.
#[test]
fn a_dataset_leaves_out_sequences_without_truth() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    std::fs::create_dir_all(d.path().join("02")).unwrap();
    for e in std::fs::read_dir(d.path().join("01")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), d.path().join("02").join(e.file_name())).unwrap();
    }
    let out = d.path().join("m.safetensors");
    let mut args = vec!["train", "--data", d.path().to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "1"];
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("02: no truth beside it (NN_GT or NN_ST); left out of training") && text(&o).contains("01: 8 frames"), "{}", text(&o));
    let alone = d.path().join("02");
    assert_refused(&["train", "--data", alone.to_str().unwrap(), "--out", d.path().join("n.safetensors").to_str().unwrap()], "no truth beside it (expected 02_GT or 02_ST)", &d.path().join("n.safetensors"));
}

#[test]
fn a_run_that_fails_before_its_first_checkpoint_leaves_nothing_to_block_a_rerun() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let out = d.path().join("m.safetensors");
    let data = d.path().join("01");
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "5", "--lr", "1e30"];
    // SMALL with validation far off: the loss fails before any checkpoint.
    args.extend_from_slice(&["--crop", "32", "--depth", "2", "--base-width", "4", "--window", "2", "--val-every", "50", "--threads", "1", "--device", "cpu"]);
    let o = cellstream(&args);
    assert!(!o.status.success() && text(&o).contains("lower the learning rate"), "{}", text(&o));
    let left: Vec<String> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("m.")).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The bytes of every file in `dir` and its subfolders, by path.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
    out
}

#[test]
fn an_overwriting_run_that_fails_before_its_first_checkpoint_puts_the_earlier_run_back() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let (out, previews, data) = (d.path().join("runs/m.safetensors"), d.path().join("runs/previews"), d.path().join("01"));
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "2", "--preview", previews.to_str().unwrap()];
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    let before = snapshot(&d.path().join("runs"));
    assert!(before.len() >= 6, "{:?}", before.keys());
    // Earlier previews are not replaced unasked.
    let o = cellstream(&args);
    assert!(!o.status.success() && text(&o).contains("exists"), "{}", text(&o));
    let mut fresh = vec!["train", "--data", data.to_str().unwrap(), "--out", d.path().join("n.safetensors").to_str().unwrap().to_string().leak(), "--steps", "2", "--preview", previews.to_str().unwrap()];
    fresh.extend_from_slice(SMALL);
    let o = cellstream(&fresh);
    assert!(!o.status.success() && text(&o).contains("an earlier run's preview"), "{}", text(&o));
    assert_eq!(snapshot(&d.path().join("runs")), before);
    // --overwrite, and the loss fails before the first validation: the
    // earlier run's checkpoints, records and previews are all back as they were.
    let mut failing = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--overwrite", "--steps", "5", "--lr", "1e30", "--preview", previews.to_str().unwrap()];
    failing.extend_from_slice(&["--crop", "32", "--depth", "2", "--base-width", "4", "--window", "2", "--val-every", "50", "--threads", "1", "--device", "cpu"]);
    let o = cellstream(&failing);
    assert!(!o.status.success() && text(&o).contains("lower the learning rate"), "{}", text(&o));
    assert_eq!(snapshot(&d.path().join("runs")), before, "the earlier run is not whole again");
    // Resuming with other data is refused: its best checkpoint was chosen on its own.
    let other = tempfile::tempdir().unwrap();
    dataset(other.path());
    let o = cellstream(&["train", "--out", out.to_str().unwrap(), "--resume", "--data", other.path().join("01").to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("--resume continues the run on its own data"), "{}", text(&o));
    // And so is a new learning rate.
    let o = cellstream(&["train", "--out", out.to_str().unwrap(), "--resume", "--lr", "1e-4"]);
    assert!(!o.status.success() && text(&o).contains("--resume continues the run's own learning rate"), "{}", text(&o));
    // And so are other frames, or another block of them held out: the best
    // score so far was measured on the run's own validation frames.
    for (flag, value, was) in [("--frames", "0-3", "--frames unset"), ("--val-fraction", "0.5", "--val-fraction 0.15")] {
        let o = cellstream(&["train", "--out", out.to_str().unwrap(), "--resume", flag, value]);
        assert!(!o.status.success() && text(&o).contains(&format!("--resume continues the run on its own frames ({was})")), "{}", text(&o));
    }
    assert_eq!(snapshot(&d.path().join("runs")), before);
    // The same data named by its dataset folder is the same data: resumed.
    let o = cellstream(&["train", "--out", out.to_str().unwrap(), "--resume", "--data", d.path().to_str().unwrap(), "--steps", "3"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn ctrl_c_ends_the_run_validated_and_saved_for_resume() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let (out, data) = (d.path().join("m.safetensors"), d.path().join("01"));
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "100000", "--max-minutes", "5"];
    args.extend_from_slice(&["--crop", "32", "--depth", "2", "--base-width", "4", "--window", "2", "--val-every", "100000", "--threads", "1", "--device", "cpu"]);
    let child = Command::new(env!("CARGO_BIN_EXE_cellstream")).args(&args).stderr(std::process::Stdio::piped()).spawn().unwrap();
    // Once steps are being taken (the history has rows), Ctrl-C.
    let history = d.path().join("m.history.csv");
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&history).map_or(0, |h| h.lines().count()) < 3 && start.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    let log = text(&o);
    assert_eq!(o.status.code(), Some(130), "{log}\n{:?}", o.status);
    assert!(log.contains("stopping: validating and saving") && log.contains("interrupted (--resume continues the run)"), "{log}");
    let (_, meta) = cellstream::model::read_metadata(&d.path().join("m.last.safetensors")).unwrap();
    let progress: cellstream::model::Progress = serde_json::from_str(&meta[cellstream::model::TRAINING_KEY]).unwrap();
    assert!(progress.step >= 2 && progress.best_val_seg.is_some(), "{progress:?}: the last step is validated");
    let o = cellstream(&["train", "--out", out.to_str().unwrap(), "--resume", "--steps", &(progress.step + 2).to_string()]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn tracking_markers_are_not_taken_for_outlines() {
    let d = tempfile::tempdir().unwrap();
    let (frames, masks) = disks(48, 40, 8, 3, 7);
    write_ctc(d.path(), &frames, &masks, &[2, 5]);
    // TRA: a 3×3 marker at each cell's first pixel, in every frame.
    let tra = d.path().join("01_GT/TRA");
    std::fs::create_dir_all(&tra).unwrap();
    let mut labels = std::collections::BTreeMap::new();
    for (t, m) in masks.iter().enumerate() {
        let mut marker = cellstream::ctc::Mask::zeros(m.dim());
        for ((y, x), &l) in m.indexed_iter() {
            if l != 0 && marker.iter().all(|&v| v != l) {
                marker.slice_mut(ndarray::s![y..(y + 3).min(m.dim().0), x..(x + 3).min(m.dim().1)]).fill(l);
                labels.entry(l).or_insert((t, t)).1 = t;
            }
        }
        cellstream::ctc::write_mask(&tra.join(format!("man_track{t:03}.tif")), &marker).unwrap();
    }
    let lines: String = labels.iter().map(|(l, (b, e))| format!("{l} {b} {e} 0\n")).collect();
    std::fs::write(tra.join("man_track.txt"), lines).unwrap();
    let out = d.path().join("m.safetensors");
    let previews = d.path().join("previews");
    let mut args = vec!["train", "--data", d.path().join("01").to_str().unwrap().to_string().leak(), "--out", out.to_str().unwrap().to_string().leak(), "--steps", "1", "--val-fraction", "0"];
    args.extend_from_slice(&["--preview", previews.to_str().unwrap().to_string().leak()]);
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("its tracking masks are markers, not outlines") && log.contains("(truth: 2 GT SEG, 0 ST SEG, 0 TRA)"), "{log}");
    // Without validation frames, the previews show the last annotated training frame, said so.
    assert!(log.contains("show training frame 5 of 01"), "{log}");
    assert!(previews.join("epoch001.png").is_file());
    // With no SEG at all the markers cannot be told from outlines: used, and said so.
    std::fs::remove_dir_all(d.path().join("01_GT/SEG")).unwrap();
    let out = d.path().join("tra.safetensors");
    let mut args = vec!["train", "--data", d.path().join("01").to_str().unwrap().to_string().leak(), "--out", out.to_str().unwrap().to_string().leak(), "--steps", "1", "--val-fraction", "0"];
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("(truth: 0 GT SEG, 0 ST SEG, 8 TRA)") && log.contains("01_GT/TRA: its tracking masks stand in for segmentation"), "{log}");
}

#[test]
fn binary_masks_given_as_truth_are_warned_of() {
    let d = tempfile::tempdir().unwrap();
    let (frames, masks) = disks(48, 40, 8, 3, 7);
    // Fiji's thresholded masks: every cell 255.
    let binary: Vec<cellstream::ctc::Mask> = masks.iter().map(|m| m.mapv(|l| if l == 0 { 0 } else { 255 })).collect();
    write_ctc(d.path(), &frames, &binary, &[0, 1, 2, 4, 5, 6, 7]);
    let out = d.path().join("m.safetensors");
    let mut args = vec!["train", "--data", d.path().join("01").to_str().unwrap().to_string().leak(), "--out", out.to_str().unwrap().to_string().leak(), "--steps", "1"];
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("man_seg000.tif: one label for 2 separate objects: a binary (semantic) mask"), "{log}"); // two of the three disks touch
    assert_eq!(log.matches("a binary (semantic) mask").count(), 1, "said once: {log}");
}

#[test]
fn frames_numbered_at_the_end_of_any_name_are_a_sequence_as_for_track() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let seq = d.path().join("01");
    for t in 0..8 {
        std::fs::rename(seq.join(format!("t{t:03}.tif")), seq.join(format!("img_{t}.tif"))).unwrap();
    }
    let out = d.path().join("m.safetensors");
    let mut args = vec!["train", "--data", seq.to_str().unwrap().to_string().leak(), "--out", out.to_str().unwrap().to_string().leak(), "--steps", "1"];
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("8 frames (truth: 7 GT SEG"), "{}", text(&o));
}

#[test]
fn a_second_ctrl_c_puts_the_earlier_run_back_before_the_process_dies() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let (out, data) = (d.path().join("runs/m.safetensors"), d.path().join("01"));
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "2"];
    args.extend_from_slice(SMALL);
    let o = cellstream(&args);
    assert!(o.status.success(), "{}", text(&o));
    let before = snapshot(&d.path().join("runs"));
    // --overwrite, validation far off: no checkpoint of the new run for a long while.
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--overwrite", "--steps", "100000", "--max-minutes", "5"];
    args.extend_from_slice(&["--crop", "32", "--depth", "2", "--base-width", "4", "--window", "2", "--val-every", "100000", "--threads", "1", "--device", "cpu"]);
    let child = Command::new(env!("CARGO_BIN_EXE_cellstream")).args(&args).stderr(std::process::Stdio::piped()).spawn().unwrap();
    wait_for_steps_of(child.id(), &d.path().join("runs"));
    // Two at once, of two kinds (two of one kind pending at once are one):
    // the second is delivered as the first's handler returns.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let o = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert!(matches!(o.status.signal(), Some(libc::SIGINT | libc::SIGTERM)), "{:?}: {}", o.status, text(&o));
    same_files(&d.path().join("runs"), &before);
}

#[test]
fn a_resumed_run_that_validates_less_often_numbers_its_previews_on() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let (out, previews, data) = (d.path().join("m.safetensors"), d.path().join("prev"), d.path().join("01"));
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "4", "--preview", previews.to_str().unwrap()];
    args.extend_from_slice(SMALL);
    assert!(cellstream(&args).status.success());
    let first = std::fs::read(previews.join("epoch002.png")).unwrap();
    let o = cellstream(&["train", "--out", out.to_str().unwrap(), "--resume", "--steps", "8", "--val-every", "4"]);
    assert!(o.status.success(), "{}", text(&o));
    let mut names: Vec<String> = std::fs::read_dir(&previews).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["epoch001.png", "epoch002.png", "epoch003.png"]);
    assert_eq!(std::fs::read(previews.join("epoch002.png")).unwrap(), first, "step 4's preview is kept");
    let history = std::fs::read_to_string(d.path().join("m.history.csv")).unwrap();
    assert!(history.lines().last().unwrap().starts_with("3,8,"), "{history}");
}

#[test]
fn what_a_killed_run_set_aside_is_put_back_by_the_next() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let (out, data, previews) = (d.path().join("runs/m.safetensors"), d.path().join("01"), d.path().join("runs/prev"));
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "2", "--preview", previews.to_str().unwrap()];
    args.extend_from_slice(SMALL);
    assert!(cellstream(&args).status.success());
    let before = snapshot(&d.path().join("runs"));
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--overwrite", "--steps", "100000", "--preview", previews.to_str().unwrap()];
    args.extend_from_slice(&["--crop", "32", "--depth", "2", "--base-width", "4", "--window", "2", "--val-every", "100000", "--threads", "1", "--device", "cpu"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cellstream")).args(&args).stderr(std::process::Stdio::null()).spawn().unwrap();
    wait_for_steps_of(child.id(), &d.path().join("runs"));
    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    assert_ne!(snapshot(&d.path().join("runs")), before, "the killed run left its files and the earlier run's aside");
    // The next run puts the earlier run back first, then refuses to replace it unasked.
    let mut again = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--steps", "2", "--preview", previews.to_str().unwrap()];
    again.extend_from_slice(SMALL);
    let o = cellstream(&again);
    assert!(!o.status.success() && text(&o).contains("put back the files of an earlier run") && text(&o).contains("exists"), "{}", text(&o));
    same_files(&d.path().join("runs"), &before);
}

/// Waits until the run of process `pid` writing `runs/m.*` has set the
/// earlier run aside and taken two steps of its own.
fn wait_for_steps_of(pid: u32, runs: &Path) {
    let (aside, history) = (runs.join(format!(".m.safetensors.earlier-{pid}")), runs.join("m.history.csv"));
    let start = std::time::Instant::now();
    while !(aside.exists() && std::fs::read_to_string(&history).map_or(0, |h| h.lines().count()) >= 3) {
        assert!(start.elapsed().as_secs() < 120, "the run did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Checks that `dir` holds exactly the files of `before`, with the same bytes; names those that differ.
fn same_files(dir: &Path, before: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>) {
    let now = snapshot(dir);
    let differ: Vec<_> = now.keys().chain(before.keys()).filter(|k| now.get(*k) != before.get(*k)).collect();
    assert!(differ.is_empty(), "differ: {differ:?}; now {:?}", now.keys().collect::<Vec<_>>());
}

/// A settings file read from another folder than the one its relative data
/// folders are relative to, and previews aimed at the checkpoint, are refused
/// by name; the folder made for the checkpoint goes again.
#[test]
fn settings_from_elsewhere_and_previews_over_the_checkpoint_are_refused_leaving_no_folder() {
    let d = tempfile::tempdir().unwrap();
    dataset(d.path());
    let settings = d.path().join("run.toml");
    std::fs::write(&settings, "data = [\"01\"]\n").unwrap();
    let out = d.path().join("new/deeper/model.safetensors");
    let o = Command::new(env!("CARGO_BIN_EXE_cellstream"))
        .args(["train", "--config", settings.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(KEEP_WEIGHTS)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("01: not found from here") && text(&o).contains("run.toml names its data folders relative to the folder it was written for"), "{}", text(&o));
    // From the folder it names them from, the same file trains.
    let o = Command::new(env!("CARGO_BIN_EXE_cellstream"))
        .args(["train", "--config", "run.toml", "--out", "here.safetensors"])
        .args(KEEP_WEIGHTS)
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // Refused after the checkpoint's folder was made: it goes again, and so do the ones made above it.
    let data = d.path().join("01");
    let mut args = vec!["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--preview", out.to_str().unwrap()];
    args.extend_from_slice(KEEP_WEIGHTS);
    assert_refused(&args, "names", &out);
    let o = cellstream(&args);
    assert!(text(&o).contains("a file this run writes (the checkpoint, or one beside it); give the previews a folder of their own"), "{}", text(&o));
    assert!(!d.path().join("new").exists(), "the folders made for the checkpoint stay behind");
}
