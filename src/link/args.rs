//! The linker's settings on the command line.
use anyhow::{bail, Result};
use clap::Args;

use super::events::DivisionRules;
use super::linker::LinkConfig;

/// The linker's settings on the command line.
#[derive(Args, Debug, Clone)]
pub struct LinkArgs {
    /// Farthest a cell moves between two frames, in pixels (overlapping objects may link from farther).
    #[arg(long, value_name = "PX", default_value_t = LinkConfig::default().max_displacement)]
    pub max_displacement: f64,
    /// Most consecutive frames a cell may be missing and still be resumed (as a child track, the CTC way).
    #[arg(long, value_name = "FRAMES", default_value_t = LinkConfig::default().max_gap)]
    pub max_gap: usize,
    /// Never report divisions.
    #[arg(long)]
    pub no_divisions: bool,
    /// Fewest frames between a cell's birth by division and its own division.
    #[arg(long, value_name = "FRAMES", default_value_t = DivisionRules::default().min_cycle)]
    pub min_cycle: usize,
    /// Prune brief branches: drop a division's daughter that lasts at most FRAMES frames and then
    /// vanishes while her sister lives on (a cell cut in two for a moment); 0: off.
    #[arg(long, value_name = "FRAMES", default_value_t = 0)]
    pub prune_branches: usize,
    /// `on`: where a division's mother ends in one long object that covers
    /// both daughters, after a round one the frame before, split it between
    /// them and move the division a frame back (the daughters touched at
    /// birth). Default on.
    #[arg(long, value_name = "on|off", value_parser = crate::track::on_off)]
    pub backdate_divisions: Option<bool>,
}

impl LinkArgs {
    pub fn config(&self) -> Result<LinkConfig> {
        if !(self.max_displacement > 0.0 && self.max_displacement.is_finite()) {
            bail!("--max-displacement must be a positive number of pixels, got {}", self.max_displacement);
        }
        Ok(LinkConfig {
            max_displacement: self.max_displacement,
            max_gap: self.max_gap,
            divisions: !self.no_divisions,
            division: DivisionRules { min_cycle: self.min_cycle, ..DivisionRules::default() },
            prune_branches: self.prune_branches,
            backdate_divisions: self.backdate_divisions.unwrap_or(true),
            ..LinkConfig::default()
        })
    }
}
