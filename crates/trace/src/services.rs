//! The services of one trace, as a waterfall's legend lists them: each
//! service once (two resources of one service, two hosts or two versions,
//! share its entry), with how many spans it has and a colour slot.
//!
//! ```
//! use tracelab_trace::services::TraceServices;
//! use tracelab_trace::generate;
//!
//! let trace = generate(200, 7);
//! let services = TraceServices::of(&trace, 8, &[]);
//! // Every span is counted under its service.
//! let counted: usize = services.entries().iter().map(|service| service.n_spans).sum();
//! assert_eq!(counted, 200);
//! // A span's colour is its service's.
//! let first = services.color_of_span(&trace, 0);
//! assert!(first < 8);
//! ```

use std::ops::Range;

use crate::model::Trace;

/// One service of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntry {
    pub name: String,
    /// The colour slot, below the palette's size.
    pub color_idx: usize,
    /// How many spans the service has; 0 for a resource no span refers to.
    pub n_spans: usize,
}

/// The services of a trace in the order they first appear among its
/// resources, and the colour of each resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceServices {
    entries: Vec<ServiceEntry>,
    service_of_resource: Vec<usize>,
    color_of_resource: Vec<usize>,
    n_colors: usize,
}

impl TraceServices {
    /// The services of `trace`, coloured from a palette of `n_colors`
    /// slots. `fixed` names the slot of each service it lists (a page that
    /// shows several traces of the same services keeps each service's
    /// colour in all of them); other services take slots in the order they
    /// first appear. Linear in the spans; the resources are few.
    pub fn of(trace: &Trace, n_colors: usize, fixed: &[(String, usize)]) -> TraceServices {
        let mut services = TraceServices::uncounted(trace, n_colors, fixed);
        services.count(trace, 0..trace.spans.len());
        services
    }

    /// [`TraceServices::of`] with no span counted yet: [`TraceServices::count`]
    /// counts them a range at a time (a million spans take a few
    /// milliseconds, which a page may want to spread over its slices).
    pub fn uncounted(trace: &Trace, n_colors: usize, fixed: &[(String, usize)]) -> TraceServices {
        let n_colors = n_colors.max(1);
        let fixed_slot = |name: &str| {
            fixed
                .iter()
                .find(|(service, _)| service == name)
                .map(|&(_, color_idx)| color_idx % n_colors)
        };
        let mut entries: Vec<ServiceEntry> = Vec::new();
        let service_of_resource: Vec<usize> = trace
            .resources
            .iter()
            .map(|resource| {
                let known = entries
                    .iter()
                    .position(|service| *service.name == *resource.service_name);
                known.unwrap_or_else(|| {
                    entries.push(ServiceEntry {
                        name: resource.service_name.to_string(),
                        color_idx: fixed_slot(&resource.service_name)
                            .unwrap_or(entries.len() % n_colors),
                        n_spans: 0,
                    });
                    entries.len() - 1
                })
            })
            .collect();
        let color_of_resource = service_of_resource
            .iter()
            .map(|&service_idx| entries[service_idx].color_idx)
            .collect();
        TraceServices {
            entries,
            service_of_resource,
            color_of_resource,
            n_colors,
        }
    }

    /// Counts the spans of `trace` in `span_range` under their services
    /// (the part of the range past the trace's end is ignored). Each span
    /// is to be counted once: ranges that overlap count twice.
    pub fn count(&mut self, trace: &Trace, span_range: Range<usize>) {
        let end = span_range.end.min(trace.spans.len());
        let start = span_range.start.min(end);
        for span in &trace.spans[start..end] {
            if let Some(&service_idx) = self.service_of_resource.get(span.resource_idx as usize) {
                self.entries[service_idx].n_spans += 1;
            }
        }
    }

    /// Every service, in the order its first resource appears.
    pub fn entries(&self) -> &[ServiceEntry] {
        &self.entries
    }

    /// The services that have spans: what a legend lists.
    pub fn with_spans(&self) -> impl Iterator<Item = &ServiceEntry> + '_ {
        self.entries.iter().filter(|service| service.n_spans > 0)
    }

    /// The colour slot of span `span_idx` of `trace` (the trace these
    /// services were taken from): its service's, or the palette's last
    /// (grey) slot for a span whose resource is missing.
    pub fn color_of_span(&self, trace: &Trace, span_idx: usize) -> usize {
        trace
            .spans
            .get(span_idx)
            .and_then(|span| self.color_of_resource.get(span.resource_idx as usize))
            .copied()
            .unwrap_or(self.n_colors - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Resource;
    use crate::tree::tests::{span, trace_of};
    use std::sync::Arc;

    fn resource(name: &str) -> Resource {
        Resource {
            service_name: Arc::from(name),
            attributes: Vec::new(),
        }
    }

    #[test]
    fn counting_a_range_at_a_time_counts_as_of_does() {
        let trace = crate::generate(1_000, 3);
        let whole = TraceServices::of(&trace, 8, &[]);
        let mut services = TraceServices::uncounted(&trace, 8, &[]);
        assert!(services
            .entries()
            .iter()
            .all(|service| service.n_spans == 0));
        for start in (0..1_000).step_by(300) {
            // The last range runs past the end, which is ignored.
            services.count(&trace, start..start + 300);
        }
        assert_eq!(services, whole);
    }

    #[test]
    fn resources_of_one_service_share_its_entry_and_colour() {
        let mut trace = trace_of((1..=5).map(|id| span(id, 0, 0, 10)).collect());
        trace.resources = vec![
            resource("bands"),
            resource("reviews"),
            resource("bands"),
            resource("unused"),
        ];
        for (span, resource_idx) in trace.spans.iter_mut().zip([0, 1, 2, 2, 9]) {
            span.resource_idx = resource_idx;
        }
        let services = TraceServices::of(&trace, 8, &[]);
        let names: Vec<(&str, usize, usize)> = services
            .entries()
            .iter()
            .map(|entry| (entry.name.as_str(), entry.color_idx, entry.n_spans))
            .collect();
        assert_eq!(
            names,
            vec![("bands", 0, 3), ("reviews", 1, 1), ("unused", 2, 0)]
        );
        assert_eq!(services.with_spans().count(), 2);
        assert_eq!(
            services.color_of_span(&trace, 2),
            0,
            "second bands resource"
        );
        assert_eq!(
            services.color_of_span(&trace, 4),
            7,
            "missing resource: grey"
        );
        assert_eq!(services.color_of_span(&trace, 99), 7, "no such span");
    }

    #[test]
    fn fixed_colours_win_and_wrap_around_the_palette() {
        let mut trace = trace_of(vec![span(1, 0, 0, 10), span(2, 1, 0, 5)]);
        trace.resources = vec![resource("client"), resource("reviews")];
        trace.spans[1].resource_idx = 1;
        let services = TraceServices::of(&trace, 8, &[("reviews".to_owned(), 13)]);
        assert_eq!(services.color_of_span(&trace, 1), 5, "13 mod 8");
        assert_eq!(services.color_of_span(&trace, 0), 0);
    }
}
