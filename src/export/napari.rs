//! napari's tracks layer: one row per spot, `track_id, t, y, x`, with each track's parent.
use std::io::Write;

use super::TrackedCells;

/// The intensity columns of each channel measured, in this order, with
/// `_chN` after each (`mean_intensity_ch2`).
pub const INTENSITY_COLUMNS: [&str; 6] = ["mean_intensity", "median_intensity", "min_intensity", "max_intensity", "total_intensity", "std_intensity"];

/// Writes the table napari's `Viewer.add_tracks` takes, as CSV with a
/// header: `track_id,t,y,x,area,parent_track_id`, one row per spot, by
/// track, then frame. `track_id` is the CTC label; `parent_track_id` (0 for
/// none) gives napari's `graph` (`{track: [parent]}`); `y` and `x` are the
/// centroid in pixels, `area` in pixels. ultrack's `to_tracks_layer` gives
/// the same columns. Spots measured in raw frames
/// ([`super::TrackedCells::read_measuring`]) add [`INTENSITY_COLUMNS`] for
/// each channel, which napari's tracks layer takes as features (e.g. to
/// colour the tracks by a reporter's intensity).
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::export::{napari, Spot, TrackedCells};
/// let cells = TrackedCells {
///     width: 8, height: 8, first: 0, last: 1,
///     spots: vec![
///         Spot { t: 0, label: 1, x: 2.0, y: 3.5, area: 4, intensity: vec![] },
///         Spot { t: 1, label: 2, x: 2.5, y: 3.0, area: 2, intensity: vec![] },
///     ],
///     tracks: vec![TrackRecord::new(1, 0, 0, 0), TrackRecord::new(2, 1, 1, 1)],
///     channels: vec![],
/// };
/// let mut out = Vec::new();
/// napari::write_tracks_csv(&cells, &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "track_id,t,y,x,area,parent_track_id\n1,0,3.5,2,4,0\n2,1,3,2.5,2,1\n");
/// ```
pub fn write_tracks_csv(cells: &TrackedCells, w: &mut impl Write) -> std::io::Result<()> {
    let parent: std::collections::BTreeMap<u32, u32> = cells.tracks.iter().map(|r| (r.label, r.parent)).collect();
    write!(w, "track_id,t,y,x,area,parent_track_id")?;
    for c in &cells.channels {
        for column in INTENSITY_COLUMNS {
            write!(w, ",{column}_ch{c}")?;
        }
    }
    writeln!(w)?;
    for (label, spots) in cells.track_spots() {
        let p = parent.get(&label).copied().unwrap_or(0);
        for s in spots.iter().map(|&i| &cells.spots[i]) {
            write!(w, "{},{},{},{},{},{}", label, s.t, s.y, s.x, s.area, p)?;
            for i in &s.intensity {
                write!(w, ",{},{},{},{},{},{}", i.mean, i.median, i.min, i.max, i.total, i.std)?;
            }
            writeln!(w)?;
        }
    }
    Ok(())
}
