//! The work one step of a sliced computation ([`crate::LayoutJob`]) may do,
//! counted in units: one unit is one span through one pass. The one-shot
//! functions (`SpanTree::build`, `self_times`, …) run the same passes with
//! an unlimited budget, so there is one implementation of each.

/// Units of work a step may still do, and how many it has done.
#[derive(Debug)]
pub(crate) struct Budget {
    left: usize,
    spent: usize,
    /// The largest piece taken at once by [`Budget::take_whole`] while the
    /// step had less left than it: how far past the budget a step went.
    overrun: usize,
}

impl Budget {
    /// A budget of `units`.
    pub(crate) fn new(units: usize) -> Budget {
        Budget {
            left: units,
            spent: 0,
            overrun: 0,
        }
    }

    /// No limit: the pass runs to its end in one call.
    pub(crate) fn unlimited() -> Budget {
        Budget::new(usize::MAX)
    }

    /// How many of `wanted` units the step may do now (all of them, or what
    /// is left); they count as spent.
    pub(crate) fn grant(&mut self, wanted: usize) -> usize {
        let granted = wanted.min(self.left);
        self.left -= granted;
        self.spent = self.spent.saturating_add(granted);
        granted
    }

    /// Gives back `units` of a grant that a pass did not use.
    pub(crate) fn refund(&mut self, units: usize) {
        self.left = self.left.saturating_add(units);
        self.spent = self.spent.saturating_sub(units);
    }

    /// Spends `units` that cannot be cut (a sort, a span's children read in
    /// one go): the step may go past its budget by them.
    pub(crate) fn take_whole(&mut self, units: usize) {
        if units > self.left {
            self.overrun = self.overrun.max(units - self.left);
        }
        self.left = self.left.saturating_sub(units);
        self.spent = self.spent.saturating_add(units);
    }

    pub(crate) fn is_spent(&self) -> bool {
        self.left == 0
    }

    /// Units done so far in this step.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn spent(&self) -> usize {
        self.spent
    }

    /// How far past its budget the step went (0: it kept to it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn overrun(&self) -> usize {
        self.overrun
    }
}
