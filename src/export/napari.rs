//! napari's tracks layer: one row per spot, `track_id, t, y, x`, with each track's parent.
use std::io::Write;

use super::TrackedCells;

/// Writes the table napari's `Viewer.add_tracks` takes, as CSV with a
/// header: `track_id,t,y,x,area,parent_track_id`, one row per spot, by
/// track, then frame. `track_id` is the CTC label; `parent_track_id` (0 for
/// none) gives napari's `graph` (`{track: [parent]}`); `y` and `x` are the
/// centroid in pixels, `area` in pixels. ultrack's `to_tracks_layer` gives
/// the same columns.
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::export::{napari, Spot, TrackedCells};
/// let cells = TrackedCells {
///     width: 8, height: 8, first: 0, last: 1,
///     spots: vec![Spot { t: 0, label: 1, x: 2.0, y: 3.5, area: 4 }, Spot { t: 1, label: 2, x: 2.5, y: 3.0, area: 2 }],
///     tracks: vec![TrackRecord::new(1, 0, 0, 0), TrackRecord::new(2, 1, 1, 1)],
/// };
/// let mut out = Vec::new();
/// napari::write_tracks_csv(&cells, &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "track_id,t,y,x,area,parent_track_id\n1,0,3.5,2,4,0\n2,1,3,2.5,2,1\n");
/// ```
pub fn write_tracks_csv(cells: &TrackedCells, w: &mut impl Write) -> std::io::Result<()> {
    let parent: std::collections::BTreeMap<u32, u32> = cells.tracks.iter().map(|r| (r.label, r.parent)).collect();
    writeln!(w, "track_id,t,y,x,area,parent_track_id")?;
    for (label, spots) in cells.track_spots() {
        let p = parent.get(&label).copied().unwrap_or(0);
        for s in spots.iter().map(|&i| &cells.spots[i]) {
            writeln!(w, "{},{},{},{},{},{}", label, s.t, s.y, s.x, s.area, p)?;
        }
    }
    Ok(())
}
