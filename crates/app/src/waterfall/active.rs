//! Which waterfall on the page answers the page-wide keys (`/` and `?`):
//! the one last focused or clicked, or else the first still on the page. A
//! page with two waterfalls (a split trace on /simulate) then opens one help
//! overlay for `?`, not two; a page with one behaves as before.

use std::cell::Cell;

use leptos::prelude::*;

/// The waterfalls on the page, in the order they were made, and the one
/// chosen last.
#[derive(Default)]
struct Instances {
    live: Vec<u64>,
    chosen: Option<u64>,
}

impl Instances {
    fn active(&self) -> Option<u64> {
        self.chosen
            .filter(|id| self.live.contains(id))
            .or_else(|| self.live.first().copied())
    }
}

thread_local! {
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    // Reference-counted, not owned by any component, so it outlives each
    // waterfall.
    static INSTANCES: ArcRwSignal<Instances> = ArcRwSignal::new(Instances::default());
}

fn instances() -> ArcRwSignal<Instances> {
    INSTANCES.with(Clone::clone)
}

/// A new waterfall on the page: its id.
pub fn register() -> u64 {
    let id = NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id + 1);
        id
    });
    instances().update(|instances| instances.live.push(id));
    id
}

/// The waterfall `id` left the page.
pub fn unregister(id: u64) {
    instances().update(|instances| {
        instances.live.retain(|live| *live != id);
        if instances.chosen == Some(id) {
            instances.chosen = None;
        }
    });
}

/// The person focused or clicked in waterfall `id`.
pub fn activate(id: u64) {
    let instances = instances();
    if instances.with_untracked(|instances| instances.chosen) != Some(id) {
        instances.update(|instances| instances.chosen = Some(id));
    }
}

/// Whether waterfall `id` answers the page-wide keys (not tracked).
pub fn is_active(id: u64) -> bool {
    instances().with_untracked(|instances| instances.active() == Some(id))
}

/// The same, tracked, for the view.
pub fn is_active_tracked(id: u64) -> bool {
    instances().with(|instances| instances.active() == Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chosen_waterfall_is_active_else_the_first() {
        let first = register();
        let second = register();
        assert!(is_active(first) && !is_active(second));
        activate(second);
        assert!(is_active(second) && !is_active(first));
        unregister(second);
        assert!(is_active(first), "the one left takes the keys");
        unregister(first);
        assert!(!is_active(first));
    }
}
