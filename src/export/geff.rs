//! GEFF, the graph exchange format of motile, ultrack and trackastra: spots as nodes, links as edges, in a Zarr v2 group.
//!
//! A GEFF (<https://liveimagetrackingtools.org/geff/>, spec 1.3) is a Zarr
//! group whose attributes hold the metadata (`geff`: version, axes,
//! property metadata, which node properties name tracklets and lineages) and
//! whose arrays hold the graph: `nodes/ids`, one array per node property
//! under `nodes/props/NAME/values`, and `edges/ids`, one (source, target) row
//! per edge. [`write_geff`] writes one from [`TrackedCells`], uncompressed,
//! each array in one chunk, which any Zarr reader opens.
use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};

use super::napari::INTENSITY_COLUMNS;
use super::TrackedCells;
use crate::ctc::{self, Calibration, CtcError, StagedFolder};

/// The GEFF spec version the files follow.
pub const GEFF_VERSION: &str = "1.3";

/// What may lie in a folder [`write_geff`] replaces: an earlier GEFF.
fn geff_entry(name: &str) -> bool {
    matches!(name, ".zgroup" | ".zattrs" | "nodes" | "edges" | "masks")
}

/// A unit as OME-NGFF (and so GEFF) names it: `µm` as `micrometer`, `min`
/// as `minute`; one it does not know, as it is.
fn ome_unit(unit: &str) -> String {
    let name = match unit {
        "µm" | "um" | "μm" | "micron" | "microns" | "micrometre" => "micrometer",
        "nm" | "nanometre" => "nanometer",
        "mm" | "millimetre" => "millimeter",
        "cm" => "centimeter",
        "m" | "metre" => "meter",
        "Å" | "A" => "angstrom",
        "ms" | "msec" => "millisecond",
        "s" | "sec" | "secs" | "seconds" => "second",
        "min" | "mins" | "minutes" => "minute",
        "h" | "hr" | "hrs" | "hours" => "hour",
        "d" | "days" => "day",
        other => other,
    };
    name.to_string()
}

/// A node property: its name, GEFF dtype, Zarr dtype, unit and values.
struct Property {
    name: String,
    dtype: &'static str,
    zarr: &'static str,
    unit: Option<String>,
    description: &'static str,
    bytes: Vec<u8>,
}

impl Property {
    fn floats(name: &str, unit: Option<String>, description: &'static str, values: impl Iterator<Item = f64>) -> Property {
        let bytes = values.flat_map(f64::to_le_bytes).collect();
        Property { name: name.to_string(), dtype: "float64", zarr: "<f8", unit, description, bytes }
    }
    fn ints(name: &str, unit: Option<String>, description: &'static str, values: impl Iterator<Item = i64>) -> Property {
        let bytes = values.flat_map(i64::to_le_bytes).collect();
        Property { name: name.to_string(), dtype: "int64", zarr: "<i8", unit, description, bytes }
    }
    fn uints(name: &str, description: &'static str, values: impl Iterator<Item = u64>) -> Property {
        let bytes = values.flat_map(u64::to_le_bytes).collect();
        Property { name: name.to_string(), dtype: "uint64", zarr: "<u8", unit: None, description, bytes }
    }
}

/// Whether [`write_geff`] may write at `dest` (nothing there, or an earlier
/// GEFF), checked before any output is written.
pub fn check_dest(dest: &Path) -> ctc::Result<()> {
    StagedFolder::check(dest, geff_entry, "a GEFF")
}

/// Writes `cells` as a GEFF group at `dest` (e.g. `tracks.zarr/tracks.geff`):
/// one node per spot (ids 0, 1, … in the order of [`TrackedCells::spots`]),
/// one directed edge per link ([`TrackedCells::links`]). Node properties:
/// `t` (frame), `y`, `x` (centroid, pixels), `area` (pixels), `track_id`
/// (the CTC label, as in the masks), `tracklet_id` ([`ctc::chain_starts`]),
/// `lineage_id` (the lineage's first track), and, for spots measured in raw
/// frames, [`INTENSITY_COLUMNS`] with `_chN` for each channel. The axes `t`,
/// `y`, `x` are in frames and pixels, with `cal`'s frame interval and pixel
/// size as their `scale` where it has them. With `masks` (the result folder
/// the cells were read from), its masks go into the group too, as the
/// array `masks` (t, y, x; gzip, a chunk a frame, frames before the first
/// all 0) named among its `related_objects` as the labels whose values are
/// the nodes' `track_id`. The group is assembled beside `dest` and moved
/// into place whole; `dest` may exist only as an earlier GEFF, which it
/// replaces.
pub fn write_geff(cells: &TrackedCells, cal: &Calibration, masks: Option<&Path>, dest: &Path) -> ctc::Result<()> {
    let staged = StagedFolder::create(dest, geff_entry, "a GEFF")?;
    let root = staged.tmp().to_path_buf();
    let spots = &cells.spots;
    let tracklet = ctc::chain_starts(&cells.tracks);
    let lineage = cells.lineage_roots();
    let pixel = Some("pixel".to_string());
    let mut props = vec![
        Property::ints("t", Some("frame".to_string()), "frame number", spots.iter().map(|s| s.t as i64)),
        Property::floats("y", pixel.clone(), "centroid row", spots.iter().map(|s| s.y)),
        Property::floats("x", pixel.clone(), "centroid column", spots.iter().map(|s| s.x)),
        Property::uints("area", "pixels", spots.iter().map(|s| s.area)),
        Property::uints("track_id", "CTC track: the object's label in the masks", spots.iter().map(|s| u64::from(s.label))),
        Property::uints("tracklet_id", "maximal path without branches, named by its first CTC track", spots.iter().map(|s| u64::from(tracklet[&s.label]))),
        Property::uints("lineage_id", "the CTC track the lineage begins with", spots.iter().map(|s| u64::from(lineage[&s.label]))),
    ];
    for (k, c) in cells.channels.iter().enumerate() {
        for (j, column) in INTENSITY_COLUMNS.iter().enumerate() {
            let value = |s: &super::Spot| {
                let i = &s.intensity[k];
                [i.mean, i.median, i.min, i.max, i.total, i.std][j]
            };
            props.push(Property::floats(&format!("{column}_ch{c}"), None, "in the raw frames", spots.iter().map(value)));
        }
    }

    let (width, height) = (cells.width as f64, cells.height as f64);
    let span = |f: &dyn Fn(&super::Spot) -> f64| -> (Value, Value) {
        let (lo, hi) = spots.iter().map(f).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        if lo.is_finite() { (json!(lo), json!(hi)) } else { (Value::Null, Value::Null) }
    };
    let axis = |name: &str, kind: &str, unit: &str, scale: f64, scaled: &str, f: &dyn Fn(&super::Spot) -> f64| {
        let (min, max) = span(f);
        let mut a = json!({"name": name, "type": kind, "unit": unit, "min": min, "max": max});
        if scaled != unit {
            a["scale"] = json!(scale);
            a["scaled_unit"] = json!(ome_unit(scaled));
        }
        a
    };
    let axes = vec![
        axis("t", "time", "frame", cal.interval, &cal.time_unit, &|s| s.t as f64),
        axis("y", "space", "pixel", cal.pixel, &cal.space_unit, &|s| s.y),
        axis("x", "space", "pixel", cal.pixel, &cal.space_unit, &|s| s.x),
    ];
    let props_metadata: serde_json::Map<String, Value> = props
        .iter()
        .map(|p| (p.name.clone(), json!({"identifier": p.name, "dtype": p.dtype, "varlength": false, "unit": p.unit, "name": p.name, "description": p.description})))
        .collect();
    let attrs = json!({"geff": {
        "geff_version": GEFF_VERSION,
        "directed": true,
        "axes": axes,
        "node_props_metadata": props_metadata,
        "edge_props_metadata": {},
        "track_node_props": {"tracklet": "tracklet_id", "lineage": "lineage_id"},
        "display_hints": {"display_horizontal": "x", "display_vertical": "y", "display_time": "t"},
        "related_objects": masks.map(|_| json!([{"type": "labels", "path": "masks", "node_prop": "track_id"}])),
        "extra": {"written_by": format!("cellstream {}", env!("CARGO_PKG_VERSION")), "frame_size": [height, width]},
    }});

    write_tree(cells, masks, &root, &props, &attrs).map_err(|e| staged.shown(e))?;
    staged.publish()?;
    zarr_parent(dest)
}

/// The GEFF's groups and arrays under `root`: its attributes `attrs`, the
/// nodes with their properties `props`, the edges, and the masks.
fn write_tree(cells: &TrackedCells, masks: Option<&Path>, root: &Path, props: &[Property], attrs: &Value) -> ctc::Result<()> {
    let spots = &cells.spots;
    group(root, attrs).map_err(io(root))?;
    let nodes = root.join("nodes");
    group(&nodes, &json!({})).map_err(io(&nodes))?;
    let ids: Vec<u8> = (0..spots.len() as u64).flat_map(u64::to_le_bytes).collect();
    array(&nodes.join("ids"), "<u8", &[spots.len()], &ids).map_err(io(&nodes))?;
    let node_props = nodes.join("props");
    group(&node_props, &json!({})).map_err(io(&node_props))?;
    for p in props {
        let dir = node_props.join(&p.name);
        group(&dir, &json!({})).map_err(io(&dir))?;
        array(&dir.join("values"), p.zarr, &[spots.len()], &p.bytes).map_err(io(&dir))?;
    }
    let edges = root.join("edges");
    group(&edges, &json!({})).map_err(io(&edges))?;
    let links = cells.links();
    let pairs: Vec<u8> = links.iter().flat_map(|&(a, b)| [a as u64, b as u64]).flat_map(u64::to_le_bytes).collect();
    array(&edges.join("ids"), "<u8", &[links.len(), 2], &pairs).map_err(io(&edges))?;
    group(&edges.join("props"), &json!({})).map_err(io(&edges))?;
    if let Some(result) = masks {
        write_masks(cells, result, &root.join("masks"))?;
    }
    Ok(())
}

/// A GEFF written inside a Zarr store (`tracks.zarr/tracks.geff`, as GEFF's
/// own examples place it) needs that store's root to be a group, or Zarr
/// readers cannot open the store: a folder `*.zarr` just above `dest`
/// without Zarr metadata (`.zgroup`, `zarr.json`) gets a Zarr v2 `.zgroup`.
fn zarr_parent(dest: &Path) -> ctc::Result<()> {
    let Some(parent) = dest.parent().filter(|p| p.extension().is_some_and(|e| e == "zarr")) else { return Ok(()) };
    if parent.join(".zgroup").exists() || parent.join("zarr.json").exists() {
        return Ok(());
    }
    let zgroup = parent.join(".zgroup");
    std::fs::write(&zgroup, b"{\n  \"zarr_format\": 2\n}\n").map_err(io(&zgroup))
}

/// The masks of the result folder `result` as the Zarr v2 array `dir`:
/// (last frame + 1, height, width), 16-bit where every label fits, else
/// 32-bit; one gzip chunk a frame, read and written one at a time.
fn write_masks(cells: &TrackedCells, result: &Path, dir: &Path) -> ctc::Result<()> {
    let frames = ctc::ResultDir::open(result)?;
    let wide = cells.tracks.iter().any(|r| r.label > u32::from(u16::MAX));
    let dtype = if wide { "<u4" } else { "<u2" };
    let shape = [cells.last + 1, cells.height, cells.width];
    let meta = json!({
        "zarr_format": 2, "shape": shape, "chunks": [1, cells.height, cells.width], "dtype": dtype,
        "compressor": {"id": "gzip", "level": 1}, "fill_value": 0, "order": "C", "filters": null, "dimension_separator": ".",
    });
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    std::fs::write(dir.join(".zarray"), serde_json::to_vec_pretty(&meta).expect("JSON")).map_err(io(dir))?;
    std::fs::write(dir.join(".zattrs"), serde_json::to_vec_pretty(&json!({"_ARRAY_DIMENSIONS": ["t", "y", "x"]})).expect("JSON")).map_err(io(dir))?;
    for t in frames.masks.times() {
        let mask = frames.read_mask(t)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let bytes: Vec<u8> = if wide { mask.iter().flat_map(|v| v.to_le_bytes()).collect() } else { mask.iter().flat_map(|&v| (v as u16).to_le_bytes()).collect() };
        let chunk = dir.join(format!("{t}.0.0"));
        gz.write_all(&bytes).and_then(|_| gz.finish()).and_then(|z| std::fs::write(&chunk, z)).map_err(io(&chunk))?;
    }
    Ok(())
}

/// An I/O error at `p`, as a [`CtcError`] naming it.
fn io(p: &Path) -> impl Fn(std::io::Error) -> CtcError + '_ {
    move |e| CtcError::io(p, &e)
}

/// A Zarr v2 group at `dir` with attributes `attrs`.
fn group(dir: &Path, attrs: &Value) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(".zgroup"), b"{\n  \"zarr_format\": 2\n}\n")?;
    std::fs::write(dir.join(".zattrs"), serde_json::to_vec_pretty(attrs)?)
}

/// A Zarr v2 array at `dir`: `bytes` in C order, little-endian `dtype`, one
/// uncompressed chunk of the whole `shape` (none for an empty array).
fn array(dir: &Path, dtype: &str, shape: &[usize], bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let chunks: Vec<usize> = shape.iter().map(|&n| n.max(1)).collect();
    let fill = if dtype.contains('f') { json!(0.0) } else { json!(0) };
    let meta = json!({
        "zarr_format": 2, "shape": shape, "chunks": chunks, "dtype": dtype, "compressor": null,
        "fill_value": fill, "order": "C", "filters": null, "dimension_separator": ".",
    });
    std::fs::write(dir.join(".zarray"), serde_json::to_vec_pretty(&meta)?)?;
    std::fs::write(dir.join(".zattrs"), b"{}")?;
    if shape.iter().all(|&n| n > 0) {
        let key = vec!["0"; shape.len()].join(".");
        std::fs::File::create(dir.join(key))?.write_all(bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_take_their_ome_names() {
        assert_eq!(ome_unit("µm"), "micrometer");
        assert_eq!(ome_unit("min"), "minute");
        assert_eq!(ome_unit("furlong"), "furlong");
    }
}
