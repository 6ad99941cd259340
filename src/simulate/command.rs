//! The `simulate` command: its options, and the sequence it writes.
use std::path::PathBuf;

use super::{write_sequence, Modality, SimConfig};

/// `cellstream simulate`: make a time-lapse with ground truth in CTC layout.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Output folder; receives 01/ (raw frames) and 01_GT/ (SEG and TRA truth).
    #[arg(long)]
    pub out: PathBuf,
    /// Kind of microscopy to imitate.
    #[arg(long, value_enum, default_value = "fluo")]
    pub modality: Modality,
    /// Number of frames.
    #[arg(long, default_value_t = 50)]
    pub frames: usize,
    /// Frame width in pixels.
    #[arg(long, default_value_t = 256)]
    pub width: usize,
    /// Frame height in pixels.
    #[arg(long, default_value_t = 256)]
    pub height: usize,
    /// Random seed; the same seed gives the same files, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Cells in the first frame [default: fluo 30, phase 20 per 256×256; colony 8].
    #[arg(long)]
    pub cells: Option<usize>,
    /// Chance that a cell, in any one frame, shows at a fifth of its contrast
    /// (it dims or blurs for that frame; the truth still holds it).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub dim: f64,
}

impl SimulateArgs {
    pub fn config(&self) -> SimConfig {
        SimConfig {
            modality: self.modality,
            width: self.width,
            height: self.height,
            frames: self.frames,
            seed: self.seed,
            cells: self.cells.unwrap_or_else(|| super::default_cells(self.modality, self.height, self.width)),
            dim: self.dim,
        }
    }
}

/// Runs `cellstream simulate` and prints what was made.
pub fn run_cli(args: &SimulateArgs) -> anyhow::Result<std::process::ExitCode> {
    let cfg = args.config();
    let stats = write_sequence(&cfg, &args.out)?;
    println!(
        "{}: simulated {} sequence {}×{}, seed {}: {stats}",
        args.out.display(),
        cfg.modality,
        cfg.width,
        cfg.height,
        cfg.seed
    );
    Ok(std::process::ExitCode::SUCCESS)
}
