//! Linking: instances of each frame into tracks, and tracks into a lineage with divisions.
//!
//! Along the data's path: [`objects`] turns a label mask into objects
//! (runs, area, centroid), [`grid`] finds the candidates within reach,
//! [`cost`] and [`events`] price links, divisions and merges, [`lap`] solves
//! the assignments, [`linker`] runs it frame by frame, [`lineage`] holds the
//! result and writes the CTC track file, [`backdate`] moves late divisions
//! back a frame as the linked frames stream past, [`prune`] mends the
//! finished lineage, and [`stream`] runs these three as `track` streams the
//! frames past. [`args`] holds the linker's settings on the command line.
pub mod args;
pub mod backdate;
pub mod cost;
pub mod events;
pub mod grid;
pub mod lap;
pub mod lineage;
pub mod linker;
pub mod objects;
pub mod prune;
pub mod stream;

pub use backdate::{backdate_divisions, BackdateRules};
pub use cost::motion_cost;
pub use events::{division_cost, is_merge, DivisionRules};
pub use lineage::{track_records, Descent, Lineage, Track};
pub use linker::{LinkConfig, LinkError, Linker};
pub use objects::{extract_objects, Object, Run, SplitRule};
pub use prune::prune_brief_branches;
pub use stream::{divisions_begun_at, pruned_labels_by_frame, LinkedLineage, StreamLinker};
