//! Draws the training curves of a finished run from its history CSV (as `train` does after each validation).
//!
//! `cargo run --release --example curves -- models/sim.history.csv docs/sim-curves.png`
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [history, png] = args.as_slice() else {
        anyhow::bail!("usage: curves MODEL.history.csv OUT.png");
    };
    let rows = cellstream::model::read_history(history)?;
    cellstream::model::write_curves(png, &rows)?;
    println!("{}: {} steps drawn", png.display(), rows.len());
    Ok(())
}
