//! cellstream: Cell Tracking Challenge time-lapses streamed through segmentation, linking and evaluation.
//!
//! The modules follow the data's path. [`ctc`] reads frames and masks and
//! writes results; [`model`] is the ConvLSTM-UNet (training, and inference
//! over windows and tiles) whose probabilities [`post`] (morphology,
//! distance transform, watershed) turns into instances; [`segment`] holds
//! the segmenters, classical and model-backed; [`link`] joins the instances
//! into tracks and a lineage with divisions; [`pipeline`] runs the stages on
//! threads joined by channels, and [`track`] builds them for the `track`
//! command. [`eval`] scores results (CTC measures, object precision and
//! recall); [`measure`] tabulates each cell's area, shape and intensity;
//! [`render`] draws overlays, lineages and reports; [`export`] writes
//! results for napari, TrackMate and GEFF; [`simulate`] makes sequences with
//! exact truth; [`run_record`] records what a run did; [`cli`] is the
//! command line.
pub mod cli;
pub mod ctc;
pub mod eval;
pub mod export;
pub mod link;
pub mod measure;
pub mod model;
pub mod pipeline;
pub mod post;
pub mod render;
pub mod run_record;
pub mod segment;
pub mod simulate;
pub mod track;
