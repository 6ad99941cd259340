//! The `cellstream evaluate` subcommand: score a result folder against a truth folder.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use super::{csv_text, evaluate, shown_in_tables, table, EvalOptions, Scores, Value};
use crate::ctc;

/// Arguments of `cellstream evaluate`.
#[derive(clap::Args, Debug, Clone)]
pub struct EvaluateArgs {
    /// Ground-truth folder holding SEG/ and/or TRA/ (e.g. 01_GT or 02_ST);
    /// or, with a dataset folder as --res, the dataset folder holding NN_GT
    /// (else NN_ST) for each NN_RES.
    #[arg(long)]
    pub gt: PathBuf,
    /// Result folder: maskTTT.tif and res_track.txt (e.g. 01_RES); or a
    /// dataset folder holding NN_RES folders, as `track DATASET` writes
    /// them: each is scored, then the mean of each measure.
    #[arg(long)]
    pub res: PathBuf,
    /// Write every measure as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the measures and the precision–recall curve as CSV to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// IoU thresholds for object precision, recall and F1, comma-separated,
    /// each in [0, 1) (default 0.25,0.5,0.75).
    #[arg(long, value_name = "T,T,...", value_delimiter = ',', default_values_t = [0.25, 0.5, 0.75], hide_default_value = true)]
    pub iou: Vec<f64>,
    /// Leave objects within PX pixels of the frame's edge out of the object
    /// precision, recall and F1, in the truth and the result alike (0: the
    /// objects the edge cuts). For truth that leaves cut cells unannotated,
    /// as PhC-C2DL-PSC's silver truth does. SEG, DET and TRA are unchanged.
    #[arg(long, value_name = "PX")]
    pub edge_margin: Option<usize>,
    /// Score these time points alone, `A-B` (`A-` from A on, `A` frame A alone): truth and
    /// result are cut to them, and so are their tracks, as though the
    /// sequence held those frames alone (a track whose mother ends before A
    /// begins without her). For a result of `track --frames`.
    #[arg(long, value_name = "A-B")]
    pub frames: Option<ctc::FrameRange>,
}

/// Runs `cellstream evaluate`: prints the table, writes the requested files.
/// Given dataset folders (`--res` holding `NN_RES` folders), scores each
/// sequence against its `NN_GT` (else `NN_ST`) in `--gt` and adds the mean.
pub fn run(args: EvaluateArgs) -> Result<ExitCode> {
    if let Some(bad) = args.iou.iter().find(|t| !(0.0..1.0).contains(*t)) {
        bail!("--iou {bad}: IoU thresholds must lie in [0, 1)");
    }
    // Both reports checked before scoring, so that a bad one is named with
    // nothing written.
    let outputs: Vec<&Path> = args.json.iter().chain(&args.csv).map(PathBuf::as_path).collect();
    for out in &outputs {
        ctc::check_output_file(out)?;
    }
    let opts = EvalOptions { iou_thresholds: args.iou.clone(), edge_margin: args.edge_margin, frames: args.frames };
    if let Some(results) = ctc::dataset_results(&args.res) {
        // Of dataset folders, the folders scored are each sequence's result
        // and truth; a report beside them in the dataset folder is fine.
        let read: Vec<PathBuf> = results
            .iter()
            .flat_map(|r| {
                let n = ctc::result_sequence(r).unwrap_or_default();
                std::iter::once(args.res.join(r)).chain(ctc::truth_names(n).map(|t| args.gt.join(t)))
            })
            .collect();
        ctc::check_outputs_apart(&outputs, &read.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
        return run_dataset(&args, &opts, &results);
    }
    ctc::check_outputs_apart(&outputs, &[&args.gt, &args.res])?;
    let scores = evaluate(&args.gt, &args.res, &opts)?;
    let json = args.json.as_ref().map(|_| serde_json::to_string_pretty(&scores).map(|t| t + "\n")).transpose()?;
    // The files first: a reader of the table that has gone (`| head`) ends
    // the process at the first line printed.
    write_reports(&args, json, csv_text(&scores))?;
    print!("{}: scored against {}\n{}{}", args.res.display(), args.gt.display(), untracked_note(&args.res), table(&scores));
    Ok(ExitCode::SUCCESS)
}

/// A line saying so where result `res` holds masks but no track file: its
/// tracking measures (TRA, LNK and those of lineages and identities) are n/a.
fn untracked_note(res: &Path) -> String {
    if res.join("res_track.txt").exists() {
        return String::new();
    }
    format!("note: {} holds no res_track.txt, so the tracking measures (TRA, LNK, the lineage and identity measures) are n/a; SEG, DET and the object measures are scored\n", res.display())
}

/// `evaluate` over a dataset: each `NN_RES` in `--res` against `NN_GT`
/// (else `NN_ST`) in `--gt`; sequences without truth are named and left out.
fn run_dataset(args: &EvaluateArgs, opts: &EvalOptions, results: &[String]) -> Result<ExitCode> {
    let mut scored: Vec<(String, Scores)> = Vec::new();
    let mut unscored = Vec::new();
    // Printed once the reports are written (see `run`).
    let mut printed = String::new();
    for name in results {
        let sequence = ctc::result_sequence(name).unwrap_or_default().to_string();
        let res = args.res.join(name);
        let Some(gt) = ctc::dataset_truth(&args.gt, &sequence) else {
            unscored.push(sequence);
            continue;
        };
        let scores = evaluate(&gt, &res, opts).with_context(|| format!("cannot score {}", res.display()))?;
        printed.push_str(&format!("{}: scored against {}\n{}{}\n", res.display(), gt.display(), untracked_note(&res), table(&scores)));
        scored.push((sequence, scores));
    }
    if scored.is_empty() {
        let sought: Vec<String> = unscored.iter().map(|s| ctc::truth_names(s).join(" or ")).collect();
        bail!(
            "{}: none of the results {} in {} has its truth here (sought {}); give --gt the dataset folder that holds it (CTC's training datasets do, its challenge datasets do not)",
            args.gt.display(),
            results.join(", "),
            args.res.display(),
            sought.join("; ")
        );
    }
    if !unscored.is_empty() {
        let names: Vec<String> = unscored.iter().map(|s| format!("{s}_RES")).collect();
        printed.push_str(&format!("not scored, for want of their NN_GT or NN_ST in {}: {}\n\n", args.gt.display(), names.join(", ")));
    }
    let mean = mean_measures(&scored);
    let names: Vec<&str> = scored.iter().map(|(n, _)| n.as_str()).collect();
    printed.push_str(&format!("mean over the {} sequences {} (n/a where a sequence lacks the measure)\n", scored.len(), names.join(", ")));
    let objects = mean_object_measures(&scored);
    printed.push_str(&format!("{:<16}{:>12}\n", "measure", "mean"));
    for (k, v) in &mean {
        if shown_in_tables(k) {
            printed.push_str(&format!("{k:<16}{:>12}\n", v.map_or("n/a".to_string(), |v| format!("{v:.6}"))));
        }
    }
    for (k, iou, v) in &objects {
        printed.push_str(&format!("{:<16}{:>12}\n", format!("{k}@{iou}"), v.map_or("n/a".to_string(), |v| format!("{v:.6}"))));
    }
    let json = if args.json.is_some() {
        let sequences: serde_json::Map<String, serde_json::Value> =
            scored.iter().map(|(n, s)| Ok((n.clone(), serde_json::to_value(s)?))).collect::<Result<_>>()?;
        let means: serde_json::Map<String, serde_json::Value> = mean
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::json!(v)))
            .chain(objects.iter().map(|(k, iou, v)| (format!("{k}@{iou}"), serde_json::json!(v))))
            .collect();
        let doc = serde_json::json!({"sequences": sequences, "mean": means, "unscored": unscored});
        Some(serde_json::to_string_pretty(&doc)? + "\n")
    } else {
        None
    };
    let csv = {
        let mut text = String::from("sequence,measure,iou,value\n");
        for (n, s) in &scored {
            for line in csv_text(s).lines().skip(1) {
                text.push_str(&format!("{n},{line}\n"));
            }
        }
        for (k, v) in &mean {
            text.push_str(&format!("mean,{k},,{}\n", v.map_or(String::new(), |v| v.to_string())));
        }
        for (k, iou, v) in &objects {
            text.push_str(&format!("mean,{k},{iou},{}\n", v.map_or(String::new(), |v| v.to_string())));
        }
        text
    };
    write_reports(args, json, csv)?;
    print!("{printed}");
    Ok(ExitCode::SUCCESS)
}

/// Writes `--json` (the text `json`) and `--csv` (`csv`), where asked for,
/// both or neither: each staged whole before either is put in place.
fn write_reports(args: &EvaluateArgs, json: Option<String>, csv: String) -> Result<()> {
    let mut staged = Vec::new();
    if let (Some(path), Some(text)) = (&args.json, json) {
        staged.push(ctc::stage_file(path, |w| std::io::Write::write_all(w, text.as_bytes())).context("writing the JSON report")?);
    }
    if let Some(path) = &args.csv {
        staged.push(ctc::stage_file(path, |w| std::io::Write::write_all(w, csv.as_bytes())).context("writing the CSV report")?);
    }
    for f in staged {
        f.commit()?;
    }
    Ok(())
}

/// Object precision, recall and F1 at each IoU threshold asked for, each
/// the mean of the sequences' own (None where a sequence has none).
fn mean_object_measures(scored: &[(String, Scores)]) -> Vec<(&'static str, f64, Option<f64>)> {
    let Some((_, first)) = scored.first() else { return Vec::new() };
    let mut out = Vec::new();
    for (i, c) in first.pr.iter().enumerate() {
        type Measure = fn(&super::ObjectCounts) -> Option<f64>;
        let measures: [(&'static str, Measure); 3] = [("precision", super::ObjectCounts::precision), ("recall", super::ObjectCounts::recall), ("f1", super::ObjectCounts::f1)];
        for (name, of) in measures {
            let values: Option<Vec<f64>> = scored.iter().map(|(_, s)| s.pr.get(i).and_then(of)).collect();
            out.push((name, c.iou, values.map(|v| v.iter().sum::<f64>() / v.len() as f64)));
        }
    }
    out
}

/// Each measure's mean over the sequences, in report order; None where a
/// sequence lacks it. Counts are left out.
fn mean_measures(scored: &[(String, Scores)]) -> Vec<(String, Option<f64>)> {
    let Some((_, first)) = scored.first() else { return Vec::new() };
    first
        .scalars()
        .into_iter()
        .filter(|(_, v)| matches!(v, Value::Measure(_)))
        .map(|(k, _)| {
            let values: Option<Vec<f64>> = scored
                .iter()
                .map(|(_, s)| s.scalars().into_iter().find(|(name, _)| *name == k).and_then(|(_, v)| if let Value::Measure(m) = v { m } else { None }))
                .collect();
            let mean = values.map(|v| v.iter().sum::<f64>() / v.len() as f64);
            (k, mean)
        })
        .collect()
}
