//! What `rules/eligibility/activity.rhai` declares about what the platform counts: the
//! conditions under which an activity counts toward the index (each with the reason shown
//! when it is not met); the steps of the activity loop (报名 → 签到 → 评论 → 评价打分 →
//! 照片 → 点赞), those that make the loop whole marked `required`; what makes a question
//! valid (有效提问) and whether answers to other questions count; whether a heavyweight
//! activity (重磅活动) counts before its application is approved; and which of an
//! activity's dates decides the period it counts in.
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

/// What makes a question valid (有效提问), as `valid_question()` declares it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionRules {
    /// The least number of characters of the question's title and body together (spaces
    /// at either end of each not counted). A question marked spam or deleted is never valid.
    pub at_least_characters: i64,
    /// What to tell people when a question is too short.
    pub too_short: String,
    /// Whether an answer counts only when its question is valid (else every answer does).
    pub answers_need_valid_question: bool,
}

/// Whether a heavyweight activity counts for its publisher before its application is
/// approved, as `heavyweight_activity()` declares it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeavyweightRules {
    /// It counts for nothing until an application with the intent `heavyweight` naming it
    /// is approved.
    pub counts_once_approved: bool,
    /// What to tell people while it does not count for that reason.
    pub unapproved: String,
}

/// Which of an activity's dates decides the period it is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodDate {
    /// The day it starts.
    Start,
    /// The day it ends.
    End,
}

impl PeriodDate {
    /// `start` or `end`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::End => "end",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityPeriod {
    counted_by: PeriodDate,
}

/// The activity rules in force.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRules {
    /// Every one must be met for an activity to count toward the index.
    pub conditions: Vec<Condition>,
    /// The loop, in order.
    pub steps: Vec<LoopStep>,
    /// What makes a question valid.
    pub questions: QuestionRules,
    /// When a heavyweight activity counts.
    pub heavyweight: HeavyweightRules,
    /// Which date puts an activity (the index's, the targets' and the Youth Homes' counts
    /// of activities, and the lists filtered by a period) in a period.
    pub counted_by: PeriodDate,
}

/// The functions an eligibility script must define.
pub const DECLARATIONS: &[&str] = &[
    "counts_toward_index",
    "activity_loop",
    "valid_question",
    "heavyweight_activity",
    "activity_period",
];

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
    /// Reads the declarations of a compiled eligibility script: every function of
    /// [`DECLARATIONS`].
    pub fn from_script(sandbox: &Sandbox, script: &Script) -> Result<Self, RuleError> {
        for function in DECLARATIONS {
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
        let questions = Declaration::call(sandbox, script, "valid_question")?;
        let question_rules: QuestionRules = questions.read()?;
        let heavyweight = Declaration::call(sandbox, script, "heavyweight_activity")?;
        let heavyweight_rules: HeavyweightRules = heavyweight.read()?;
        let period: ActivityPeriod =
            Declaration::call(sandbox, script, "activity_period")?.read()?;
        if question_rules.at_least_characters < 0 {
            return Err(questions.error(
                Some("at_least_characters"),
                "at_least_characters must be zero or more",
            ));
        }
        if question_rules.too_short.trim().is_empty() {
            return Err(questions.error(
                Some("too_short"),
                "say what is wrong with a question that is too short (`too_short`)",
            ));
        }
        if heavyweight_rules.unapproved.trim().is_empty() {
            return Err(heavyweight.error(
                Some("unapproved"),
                "say why an unapproved heavyweight activity does not count (`unapproved`)",
            ));
        }
        let rules = Self {
            conditions: eligibility.conditions,
            steps: lp.steps,
            questions: question_rules,
            heavyweight: heavyweight_rules,
            counted_by: period.counted_by,
        };
        rules
            .validate()
            .map_err(|message| RuleError::new(&script.name, message))?;
        Ok(rules)
    }

    /// Whether a question counts as valid, and why not: `None` when it does. `visible` is
    /// false for a question marked spam or deleted.
    pub fn question_fault(&self, title: &str, body: &str, visible: bool) -> Option<String> {
        if !visible {
            return Some(
                "提问已删除或被标为垃圾信息 The question is deleted or marked spam".into(),
            );
        }
        let characters = (title.trim().chars().count() + body.trim().chars().count()) as i64;
        (characters < self.questions.at_least_characters).then(|| self.questions.too_short.clone())
    }

    /// Whether a heavyweight activity (`heavyweight`) approved or not counts for its
    /// publisher at all, and why not.
    pub fn publisher_fault(&self, heavyweight: bool, approved: bool) -> Option<String> {
        (heavyweight && !approved && self.heavyweight.counts_once_approved)
            .then(|| self.heavyweight.unapproved.clone())
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

/// One test case of an eligibility script (`eligibility/activity.tests.json`): a question,
/// an activity (its figures, whether it is heavyweight and approved, its dates) and a
/// period, and what the rules must say of them.
///
/// ```json
/// [{ "name": "a question mark alone is no question",
///    "question": { "title": "?", "body": "" }, "expect": { "valid": false } },
///  { "name": "an activity ending in October counts in October",
///    "activity": { "starts": "2017-09-30", "ends": "2017-10-01" }, "period": "2017-10",
///    "expect": { "in_period": true } }]
/// ```
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EligibilityCase {
    pub name: String,
    #[serde(default)]
    pub question: Option<QuestionCase>,
    #[serde(default)]
    pub activity: Option<ActivityCase>,
    #[serde(default)]
    pub period: Option<crate::period::Period>,
    pub expect: EligibilityExpected,
}

/// A question of a test case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuestionCase {
    pub title: String,
    pub body: String,
    /// `visible` (the default), `spam` or `deleted`.
    pub status: Option<QuestionStatus>,
}

/// A question's moderation state, as a test case writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    Visible,
    Spam,
    Deleted,
}

/// An activity of a test case: its figures (zero when not given), whether it is a
/// heavyweight one and approved, and its first and last days.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivityCase {
    pub signups: i64,
    pub checkins: i64,
    pub comments: i64,
    pub reviews: i64,
    pub photos: i64,
    pub photos_after_end: i64,
    pub likes: i64,
    pub heavyweight: bool,
    pub approved: bool,
    pub starts: Option<chrono::NaiveDate>,
    pub ends: Option<chrono::NaiveDate>,
}

/// What a test case expects; only what is given is checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EligibilityExpected {
    /// The question is valid.
    pub valid: Option<bool>,
    /// Answers to the question count.
    pub answers_count: Option<bool>,
    /// The activity counts toward the index.
    pub counts: Option<bool>,
    /// The activity's loop is whole.
    pub loop_whole: Option<bool>,
    /// The activity is counted in the case's period.
    pub in_period: Option<bool>,
}

impl ActivityRules {
    /// Runs one test case; the error says what the rules said instead.
    pub fn run_case(&self, case: &EligibilityCase) -> Result<(), String> {
        let mut checked = 0;
        let mut wrong = Vec::new();
        let mut check = |what: &str, expected: Option<bool>, got: Option<bool>| {
            if let Some(expected) = expected {
                checked += 1;
                match got {
                    Some(got) if got == expected => {}
                    Some(got) => wrong.push(format!("{what}: expected {expected}, got {got}")),
                    None => wrong.push(format!("{what}: the case gives nothing to judge it by")),
                }
            }
        };
        let valid = case.question.as_ref().map(|q| {
            let visible = q.status.unwrap_or(QuestionStatus::Visible) == QuestionStatus::Visible;
            self.question_fault(&q.title, &q.body, visible).is_none()
        });
        check("valid", case.expect.valid, valid);
        check(
            "answers_count",
            case.expect.answers_count,
            valid.map(|v| v || !self.questions.answers_need_valid_question),
        );
        let activity = case.activity.as_ref();
        let figures = activity.map(|a| ActivityFigures {
            signups: a.signups,
            checkins: a.checkins,
            comments: a.comments,
            reviews: a.reviews,
            photos: a.photos,
            photos_after_end: a.photos_after_end,
            likes: a.likes,
        });
        check(
            "counts",
            case.expect.counts,
            activity.zip(figures).map(|(a, f)| {
                self.publisher_fault(a.heavyweight, a.approved).is_none() && self.judge(&f).counts
            }),
        );
        check(
            "loop_whole",
            case.expect.loop_whole,
            figures.map(|f| self.loop_of(&f).iter().all(|s| s.done || !s.step.required)),
        );
        let day = activity.and_then(|a| match self.counted_by {
            PeriodDate::Start => a.starts,
            PeriodDate::End => a.ends,
        });
        check(
            "in_period",
            case.expect.in_period,
            case.period
                .as_ref()
                .zip(day)
                .map(|(period, day)| period.contains_day(day)),
        );
        if checked == 0 {
            return Err(
                "`expect` names nothing to check (valid, answers_count, counts, \
                        loop_whole or in_period)"
                    .into(),
            );
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("; "))
        }
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
