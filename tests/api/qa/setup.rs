//! A small world built through mutations, so these tests need no demo data: two
//! districts, the city, two towns (one with a Youth Home) and a few members.

use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Ids of what [`world`] created.
pub struct World {
    pub district_1: String,
    pub district_2: String,
    pub city: String,
    /// 石碣, in district 1.
    pub shijie: String,
    /// A Youth Home of 石碣.
    pub shijie_home: String,
    /// 厚街, in district 2.
    pub houjie: String,
    /// Members registered under 石碣.
    pub members: Vec<String>,
}

/// The id returned by a mutation that must succeed.
pub async fn create(app: &TestApp, mutation: &str, field: &str, input: Value) -> String {
    let data = app.data(mutation, json!({ "input": input })).await;
    data[field]["id"].as_str().expect("an id").to_owned()
}

const DISTRICT: &str =
    "mutation($input: CreateDistrictInput!) { createDistrict(input: $input) { id } }";
const UNIT: &str = "mutation($input: CreateOrgUnitInput!) { createOrgUnit(input: $input) { id } }";
const MEMBER: &str =
    "mutation($input: RegisterMemberInput!) { registerMember(input: $input) { id } }";

/// Builds the world with `members` members.
pub async fn world(app: &TestApp, members: usize) -> World {
    let district = |code: &str, name: &str| json!({ "code": code, "name": name, "nameEn": code });
    let district_1 = create(app, DISTRICT, "createDistrict", district("d1", "第一片区")).await;
    let district_2 = create(app, DISTRICT, "createDistrict", district("d2", "第二片区")).await;
    let city = create(
        app,
        UNIT,
        "createOrgUnit",
        json!({ "code": "city", "name": "团市委", "kind": "CITY" }),
    )
    .await;
    let town = |code: &str, name: &str, district: &str| json!({ "code": code, "name": name, "kind": "TOWN", "parentId": city, "districtId": district });
    let shijie = create(
        app,
        UNIT,
        "createOrgUnit",
        town("town-shijie", "石碣", &district_1),
    )
    .await;
    let houjie = create(
        app,
        UNIT,
        "createOrgUnit",
        town("town-houjie", "厚街", &district_2),
    )
    .await;
    let shijie_home = create(
        app,
        UNIT,
        "createOrgUnit",
        json!({ "code": "home-shijie", "name": "石碣青年之家", "kind": "YOUTH_HOME", "parentId": shijie }),
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..members {
        let input = json!({ "nickname": format!("青年{i}"), "homeTownId": shijie });
        ids.push(create(app, MEMBER, "registerMember", input).await);
    }
    World {
        district_1,
        district_2,
        city,
        shijie,
        shijie_home,
        houjie,
        members: ids,
    }
}

pub const ASK: &str = "mutation($input: AskQuestionInput!) { askQuestion(input: $input) { id } }";
pub const ANSWER: &str =
    "mutation($input: AnswerQuestionInput!) { answerQuestion(input: $input) { id } }";
pub const RECRUIT: &str =
    "mutation($input: RecruitExpertInput!) { recruitExpert(input: $input) { id } }";
pub const PUBLISH: &str =
    "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { id publishedAt } }";
pub const TAKE_PART: &str =
    "mutation($input: TakePartInTopicInput!) { takePartInTopic(input: $input) { id } }";

/// Asks a question and returns its id.
pub async fn ask(app: &TestApp, asker: &str, addressed_to: Option<&str>, title: &str) -> String {
    let input = json!({
        "askerId": asker, "addressedToId": addressed_to, "title": title,
        "body": format!("{title}：请问应该怎么办？"),
    });
    create(app, ASK, "askQuestion", input).await
}

/// Recruits a member as an expert of `field` and returns the expert's id.
pub async fn recruit(app: &TestApp, member: &str, unit: &str, field: &str) -> String {
    let input = json!({
        "memberId": member, "name": "王律师", "field": field,
        "title": "律师，东莞市律师协会", "recruitedById": unit,
    });
    create(app, RECRUIT, "recruitExpert", input).await
}

/// Answers a question as the given author (`{"expertId": …}` or the like).
pub async fn answer(app: &TestApp, question: &str, author: Value) -> String {
    let mut input = json!({ "questionId": question, "body": "建议先咨询青年之家的社工。" });
    if let (Some(input), Some(author)) = (input.as_object_mut(), author.as_object()) {
        input.extend(author.clone());
    }
    create(app, ANSWER, "answerQuestion", input).await
}
