//! The entities under short names.

pub use crate::activity::Entity as Activity;
pub use crate::activity_checkin::Entity as ActivityCheckin;
pub use crate::activity_comment::Entity as ActivityComment;
pub use crate::activity_like::Entity as ActivityLike;
pub use crate::activity_photo::Entity as ActivityPhoto;
pub use crate::activity_review::Entity as ActivityReview;
pub use crate::activity_signup::Entity as ActivitySignup;
pub use crate::answer::Entity as Answer;
pub use crate::daily_visit::Entity as DailyVisit;
pub use crate::district::Entity as District;
pub use crate::expert::Entity as Expert;
pub use crate::imported_figure::Entity as ImportedFigure;
pub use crate::incentive_application::Entity as IncentiveApplication;
pub use crate::incentive_intent::Entity as IncentiveIntent;
pub use crate::meeting_attendance::Entity as MeetingAttendance;
pub use crate::member::Entity as Member;
pub use crate::org_unit::Entity as OrgUnit;
pub use crate::question::Entity as Question;
pub use crate::service_request::Entity as ServiceRequest;
pub use crate::service_request_event::Entity as ServiceRequestEvent;
pub use crate::supervision_meeting::Entity as SupervisionMeeting;
pub use crate::supervisor_assignment::Entity as SupervisorAssignment;
pub use crate::target::Entity as Target;
pub use crate::topic::Entity as Topic;
pub use crate::topic_participation::Entity as TopicParticipation;
