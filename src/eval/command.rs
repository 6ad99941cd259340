//! The `cellstream evaluate` subcommand: score a result folder against a truth folder.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use super::{csv_text, evaluate, table, EvalOptions};
use crate::ctc;

/// Arguments of `cellstream evaluate`.
#[derive(clap::Args, Debug, Clone)]
pub struct EvaluateArgs {
    /// Ground-truth folder holding SEG/ and/or TRA/ (e.g. 01_GT or 02_ST).
    #[arg(long)]
    pub gt: PathBuf,
    /// Result folder: maskTTT.tif and res_track.txt (e.g. 01_RES).
    #[arg(long)]
    pub res: PathBuf,
    /// Write every measure as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the measures and the precision–recall curve as CSV to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// IoU thresholds for object precision, recall and F1 (comma-separated, each in [0, 1)).
    #[arg(long, value_delimiter = ',', default_values_t = [0.25, 0.5, 0.75])]
    pub iou: Vec<f64>,
    /// Leave objects within PX pixels of the frame's edge out of the object
    /// precision, recall and F1, in the truth and the result alike (0: the
    /// objects the edge cuts). For truth that leaves cut cells unannotated,
    /// as PhC-C2DL-PSC's silver truth does. SEG, DET and TRA are unchanged.
    #[arg(long, value_name = "PX")]
    pub edge_margin: Option<usize>,
}

/// Runs `cellstream evaluate`: prints the table, writes the requested files.
pub fn run(args: EvaluateArgs) -> Result<ExitCode> {
    if let Some(bad) = args.iou.iter().find(|t| !(0.0..1.0).contains(*t)) {
        bail!("--iou {bad}: IoU thresholds must lie in [0, 1)");
    }
    let opts = EvalOptions { iou_thresholds: args.iou.clone(), edge_margin: args.edge_margin };
    let scores = evaluate(&args.gt, &args.res, &opts)?;
    println!("{}: scored against {}", args.res.display(), args.gt.display());
    print!("{}", table(&scores));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&scores)? + "\n";
        ctc::write_atomic(path, |w| std::io::Write::write_all(w, text.as_bytes())).context("writing the JSON report")?;
    }
    if let Some(path) = &args.csv {
        let text = csv_text(&scores);
        ctc::write_atomic(path, |w| std::io::Write::write_all(w, text.as_bytes())).context("writing the CSV report")?;
    }
    Ok(ExitCode::SUCCESS)
}
