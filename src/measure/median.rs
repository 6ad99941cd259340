//! Medians: of sorted counts, and of pixel values by selection.

/// The median of values sorted in ascending order (the mean of the middle
/// two for an even count), 0 for none.
///
/// ```
/// use cellstream::measure::median_of_sorted;
/// assert_eq!((median_of_sorted(&[1, 4, 9]), median_of_sorted(&[1, 4, 9, 10]), median_of_sorted(&[])), (4.0, 6.5, 0.0));
/// ```
pub fn median_of_sorted(sorted: &[u64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2] as f64,
        n => (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0,
    }
}

/// The median of `values` (the mean of the middle two for an even count),
/// by selection rather than a sort; `None` for none. Reorders `values`.
///
/// ```
/// assert_eq!(cellstream::measure::median(&mut [3.0, 1.0, 2.0, 5.0]), Some(2.5));
/// assert_eq!(cellstream::measure::median(&mut []), None);
/// ```
pub fn median(values: &mut [f32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let (below, &mut upper, _) = values.select_nth_unstable_by(n / 2, f32::total_cmp);
    Some(match below.iter().copied().max_by(f32::total_cmp) {
        Some(lower) if n.is_multiple_of(2) => (f64::from(lower) + f64::from(upper)) / 2.0,
        _ => f64::from(upper),
    })
}
