//! Post-processing: from probability or foreground maps to instance masks.
//!
//! One family of operations per file, along the data's path: [`threshold`](mod@threshold)
//! (probabilities → foreground), [`runs`] (run-length encoded foregrounds),
//! [`morphology`] (closing, holes, small objects),
//! [`distance_transform`](mod@distance_transform), [`fragments`] (small objects into their neighbours), [`border`] (objects the frame's edge cuts), [`merges`] (objects split by the frame before), [`region_labelling`], [`markers`], [`watershed`](mod@watershed), and
//! [`chain`], which wires them: [`instances_from_probability`] and
//! [`instances_from_seeds`]. [`command`] runs the chain over a folder of TIFFs
//! (`cellstream postprocess`).
pub mod border;
pub mod chain;
pub mod command;
pub mod distance_transform;
pub mod fragments;
pub mod markers;
pub mod merges;
pub mod morphology;
pub mod region_labelling;
pub mod runs;
pub mod threshold;
pub mod watershed;

pub use border::{border_labels, clear_border};
pub use chain::{foreground_components, instances_from_probability, instances_from_seeds, remove_unsure_objects, PostParams, SeedMode};
pub use fragments::merge_fragments;
pub use distance_transform::{distance_transform, squared_distance_transform, NO_BACKGROUND};
pub use markers::{h_maxima, local_maxima, markers_from_points, seeds_from_probability};
pub use merges::{split_merges, split_merges_mut, MergeSplit, MergeSplitter};
pub use morphology::{
    close_disk, close_runs, dilate_disk, dilate_runs, erode_disk, erode_runs, fill_holes, fill_holes_runs,
    remove_small_components, remove_small_runs,
};
pub use region_labelling::{
    bounding_boxes, label_areas, label_components, label_components_with_areas, relabel_sequential, BoundingBox, Connectivity,
};
pub use runs::{Components, Runs};
pub use threshold::{probability_map, threshold};
pub use watershed::{watershed, watershed_levels};
