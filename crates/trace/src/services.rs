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
        for span in &trace.spans {
            if let Some(&service_idx) = service_of_resource.get(span.resource_idx as usize) {
                entries[service_idx].n_spans += 1;
            }
        }
        let color_of_resource = service_of_resource
            .iter()
            .map(|&service_idx| entries[service_idx].color_idx)
            .collect();
        TraceServices {
            entries,
            color_of_resource,
            n_colors,
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
