//! What `rules/eligibility/activity.rhai` declares about activities: the conditions under
//! which one counts toward the index (each with the reason shown when it is not met), and
//! the steps of the activity loop (报名 → 签到 → 评论 → 评价打分 → 照片 → 点赞), those
//! that make the loop whole marked `required`.
//!
//! Both are declarations over a fixed vocabulary of per-activity figures
//! ([`ActivityFigure`]) so that the database can apply them when it counts activities for a
//! whole city (the scoring layer), and the same declaration explains one activity on its
//! page. No threshold is written here.

use serde::Deserialize;

use super::{RuleError, Sandbox, Script};

/// A figure of one activity that a condition or a loop step can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityFigure {
    /// Members signed up.
    Signups,
    /// Signed-up members checked in.
    Checkins,
    /// Comments.
    Comments,
    /// Reviews, each with its rating (评价/打分).
    Reviews,
    /// Photos uploaded at any time.
    Photos,
    /// Photos uploaded after the activity ended.
    PhotosAfterEnd,
    /// Likes and votes.
    Likes,
}

impl ActivityFigure {
    /// The figure's name in the rules (`signups`, `photos_after_end`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Signups => "signups",
            Self::Checkins => "checkins",
            Self::Comments => "comments",
            Self::Reviews => "reviews",
            Self::Photos => "photos",
            Self::PhotosAfterEnd => "photos_after_end",
            Self::Likes => "likes",
        }
    }
}

/// One condition an activity must meet to count toward the index.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub figure: ActivityFigure,
    /// The least value of the figure that meets it.
    pub at_least: i64,
    /// What to tell people when the activity does not meet it.
    pub unmet: String,
}

/// One step of the activity loop.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopStep {
    /// A short key: `signup`, `checkin`, …
    pub step: String,
    /// What it is, for people.
    pub label: String,
    pub figure: ActivityFigure,
    /// The least value of the figure for the step to be done.
    pub at_least: i64,
    /// Whether the loop is whole only with this step done.
    #[serde(default)]
    pub required: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Eligibility {
    conditions: Vec<Condition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Loop {
    steps: Vec<LoopStep>,
}

/// The activity rules in force.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRules {
    /// Every one must be met for an activity to count toward the index.
    pub conditions: Vec<Condition>,
    /// The loop, in order.
    pub steps: Vec<LoopStep>,
}

/// The figures of one activity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivityFigures {
    pub signups: i64,
    pub checkins: i64,
    pub comments: i64,
    pub reviews: i64,
    pub photos: i64,
    pub photos_after_end: i64,
    pub likes: i64,
}

impl ActivityFigures {
    pub fn get(&self, figure: ActivityFigure) -> i64 {
        match figure {
            ActivityFigure::Signups => self.signups,
            ActivityFigure::Checkins => self.checkins,
            ActivityFigure::Comments => self.comments,
            ActivityFigure::Reviews => self.reviews,
            ActivityFigure::Photos => self.photos,
            ActivityFigure::PhotosAfterEnd => self.photos_after_end,
            ActivityFigure::Likes => self.likes,
        }
    }
}

/// Whether one activity counts, and why not.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub counts: bool,
    /// The `unmet` text of every condition not met; empty when it counts.
    pub reasons: Vec<String>,
}

/// One step of one activity's loop.
#[derive(Debug, Clone, PartialEq)]
pub struct StepState<'a> {
    pub step: &'a LoopStep,
    /// The figure the step looks at.
    pub value: i64,
    pub done: bool,
}

impl ActivityRules {
    /// Reads the declarations of a compiled eligibility script: `counts_toward_index()`
    /// and `activity_loop()`.
    pub fn from_script(sandbox: &Sandbox, script: &Script) -> Result<Self, RuleError> {
        for function in ["counts_toward_index", "activity_loop"] {
            if !script.defines(function, 0) {
                return Err(RuleError::new(
                    &script.name,
                    format!("the activity rules must define `fn {function}()`"),
                ));
            }
        }
        use super::declaration::Declaration;
        let eligibility: Eligibility =
            Declaration::call(sandbox, script, "counts_toward_index")?.read()?;
        let lp: Loop = Declaration::call(sandbox, script, "activity_loop")?.read()?;
        let rules = Self {
            conditions: eligibility.conditions,
            steps: lp.steps,
        };
        rules
            .validate()
            .map_err(|message| RuleError::new(&script.name, message))?;
        Ok(rules)
    }

    fn validate(&self) -> Result<(), String> {
        for c in &self.conditions {
            if c.at_least < 0 {
                return Err(format!(
                    "condition on {:?}: at_least must be zero or more",
                    c.figure
                ));
            }
            if c.unmet.trim().is_empty() {
                return Err(format!(
                    "condition on {:?}: say why it is unmet (`unmet`)",
                    c.figure
                ));
            }
        }
        let mut keys = std::collections::HashSet::new();
        for s in &self.steps {
            crate::names::snake_name("step", "signup", &s.step)
                .map_err(|e| format!("loop step: {e}"))?;
            if !keys.insert(s.step.as_str()) {
                return Err(format!("loop step `{}` is declared twice", s.step));
            }
            if s.at_least < 0 {
                return Err(format!(
                    "loop step `{}`: at_least must be zero or more",
                    s.step
                ));
            }
        }
        if !self.steps.iter().any(|s| s.required) {
            return Err("no loop step is `required`: the whole loop would mean nothing".into());
        }
        Ok(())
    }

    /// Whether an activity with `figures` counts toward the index.
    pub fn judge(&self, figures: &ActivityFigures) -> Judgement {
        let reasons: Vec<String> = self
            .conditions
            .iter()
            .filter(|c| figures.get(c.figure) < c.at_least)
            .map(|c| c.unmet.clone())
            .collect();
        Judgement {
            counts: reasons.is_empty(),
            reasons,
        }
    }

    /// Each step of the loop for an activity with `figures`.
    pub fn loop_of(&self, figures: &ActivityFigures) -> Vec<StepState<'_>> {
        self.steps
            .iter()
            .map(|step| {
                let value = figures.get(step.figure);
                StepState {
                    step,
                    value,
                    done: value >= step.at_least,
                }
            })
            .collect()
    }

    /// The steps that make the loop whole.
    pub fn required_steps(&self) -> impl Iterator<Item = &LoopStep> {
        self.steps.iter().filter(|s| s.required)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ActivityRules {
        let source = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../rules/eligibility/activity.rhai"),
        )
        .unwrap();
        let sandbox = Sandbox::new();
        let script = sandbox
            .compile("eligibility/activity.rhai", &source)
            .unwrap();
        ActivityRules::from_script(&sandbox, &script).unwrap()
    }

    #[test]
    fn an_activity_without_photos_after_its_end_does_not_count_and_says_so() {
        let judged = rules().judge(&ActivityFigures {
            signups: 5,
            photos: 3,
            ..Default::default()
        });
        assert!(!judged.counts);
        assert_eq!(judged.reasons.len(), 1, "{judged:?}");
        assert!(judged.reasons[0].contains("photos"), "{judged:?}");
    }

    #[test]
    fn the_loop_is_whole_once_its_required_steps_are_done() {
        let rules = rules();
        let done = ActivityFigures {
            signups: 2,
            checkins: 1,
            reviews: 1,
            ..Default::default()
        };
        let states = rules.loop_of(&done);
        assert!(states.iter().filter(|s| s.step.required).all(|s| s.done));
        assert!(states.iter().any(|s| !s.done), "optional steps stay undone");
    }
}
