//! The Cell Tracking Challenge format: frames, masks, track files, result folders.
//!
//! Reading frames and masks, and writing and checking results, live here; the
//! stages see only [`Frame`]s, [`Mask`]s and [`TrackRecord`]s. The commands
//! open their own outputs (reports, tables, images) through
//! [`check_outputs_apart`] and [`stage_file`], so that none is half-written.
mod calibration;
mod channels;
mod dataset;
mod error;
mod frame_range;
mod ndtiff;
mod pattern;
mod planes;
mod sequence;
mod stack;
mod staging;
mod tiff_io;
mod track_file;
mod validate;
mod writer;
mod zarr;

pub use calibration::{parse_quantity, read_calibration, Calibration, Quantity, Recorded};
pub use error::{CtcError, Result};
pub use frame_range::FrameRange;
pub use dataset::{dataset_results, dataset_sequences, dataset_truth, result_sequence, truth_names};
pub use sequence::{stop_following, stopped_following, list_frame_files, list_mask_frames, list_numbered_tiffs, mask_frames_in, of_one_size, parse_frame_name, FrameFiles, ResultDir, Sequence, Truth};
pub use pattern::{is_pattern, list_pattern_files, names_slices, pattern_result_name, suggest_pattern, FilePattern};
pub use planes::{z_project, Planes, Projection, SliceRange};
pub use stack::{FrameStream, RawFrames, Stack, StackPages};
pub use staging::{check_output_file, check_outputs_apart, stage_file, write_atomic, StagedFile};
pub use tiff_io::{decode_frame, decode_mask, read_frame, read_frame_planes, read_mask, read_mask_with_bits, write_frame, write_mask, Channel, Frame, Mask};
pub use track_file::{chain_starts, clip_tracks, daughter_counts, parse_tracks, read_tracks, write_tracks, TrackRecord};
pub use validate::{check_lineage, lineage_violations, validate_result, validate_tracks, Violation};
pub use writer::{refuse_truth_folder, ResultWriter, StagedFolder, RUN_RECORD};
pub(crate) use writer::{process_alive, remove_stale, shown_as};
pub use ndtiff::{is_ndtiff, ndtiff_channel_names, ndtiff_positions, refuse_position, NdTiff};
pub use channels::{channel_names, ChannelArg};
pub use zarr::{is_zarr, zarr_calibration, ZarrImage};
