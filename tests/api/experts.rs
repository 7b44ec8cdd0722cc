//! The expert alliance: recruiting, updating and listing experts.

use serde_json::{json, Value};

use crate::both_databases;
use crate::qa::setup::{create, recruit, world, RECRUIT};

const EXPERT: &str = "query($id: ID!) { expert(id: $id) {
    name field title joinedAt answerCount member { nickname } recruitedBy { code }
} }";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateExpertInput!) {
    updateExpert(id: $id, input: $input) { name field title recruitedBy { code } }
}";

fn recruit_input(member: &str, unit: &str) -> Value {
    json!({ "memberId": member, "name": "李老师", "field": "PSYCHOLOGY", "recruitedById": unit })
}

both_databases! {
    async fn a_member_is_recruited_as_an_expert_with_no_answers_yet(app) {
        let w = world(&app, 1).await;
        let expert = recruit(&app, &w.members[0], &w.shijie_home, "LAW").await;
        let data = app.data(EXPERT, json!({ "id": expert })).await;
        let e = &data["expert"];
        assert_eq!(e["name"], "王律师");
        assert_eq!(e["field"], "LAW");
        assert_eq!(e["title"], "律师，东莞市律师协会");
        assert_eq!(e["answerCount"], 0);
        assert_eq!(e["member"]["nickname"], "青年0");
        assert_eq!(e["recruitedBy"]["code"], "home-shijie");
        assert!(e["joinedAt"].is_string());
        let missing = app.data(EXPERT, json!({ "id": "987654" })).await;
        assert!(missing["expert"].is_null());
    }

    async fn a_member_cannot_be_recruited_twice(app) {
        let w = world(&app, 1).await;
        recruit(&app, &w.members[0], &w.shijie, "LAW").await;
        let before = app.count("expert").await;
        let (code, message) = app
            .error(RECRUIT, json!({ "input": recruit_input(&w.members[0], &w.houjie) }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("already an expert"), "{message}");
        assert_eq!(app.count("expert").await, before);
    }

    async fn recruiting_with_an_unknown_member_or_unit_or_a_blank_name_is_refused(app) {
        let w = world(&app, 1).await;
        let mut blank = recruit_input(&w.members[0], &w.shijie);
        blank["name"] = json!("  ");
        let inputs = [
            recruit_input("987654", &w.shijie),
            recruit_input(&w.members[0], "987654"),
            blank,
        ];
        for input in inputs {
            let (code, message) = app.error(RECRUIT, json!({ "input": input })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
        }
        assert_eq!(app.count("expert").await, 0);
    }

    async fn an_expert_is_updated_and_a_missing_expert_is_not_found(app) {
        let w = world(&app, 1).await;
        let expert = recruit(&app, &w.members[0], &w.shijie, "LAW").await;
        let input = json!({ "name": "王主任", "field": "CAREER", "title": null, "recruitedById": w.houjie });
        let data = app.data(UPDATE, json!({ "id": expert, "input": input })).await;
        let e = &data["updateExpert"];
        assert_eq!(e["name"], "王主任");
        assert_eq!(e["field"], "CAREER");
        assert!(e["title"].is_null());
        assert_eq!(e["recruitedBy"]["code"], "town-houjie");

        let (code, _) = app
            .error(UPDATE, json!({ "id": expert, "input": { "recruitedById": "987654" } }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        let (code, _) = app.error(UPDATE, json!({ "id": expert, "input": { "name": "" } })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        let (code, _) = app.error(UPDATE, json!({ "id": "987654", "input": { "name": "x" } })).await;
        assert_eq!(code, "NOT_FOUND");
        let data = app.data(EXPERT, json!({ "id": expert })).await;
        assert_eq!(data["expert"]["recruitedBy"]["code"], "town-houjie");
    }

    async fn experts_are_filtered_by_field_unit_town_district_and_text(app) {
        let w = world(&app, 4).await;
        recruit(&app, &w.members[0], &w.shijie, "LAW").await;
        recruit(&app, &w.members[1], &w.shijie_home, "PSYCHOLOGY").await;
        recruit(&app, &w.members[2], &w.houjie, "LAW").await;
        let mut other = recruit_input(&w.members[3], &w.city);
        other["name"] = json!("陈创业导师");
        other["field"] = json!("ENTREPRENEURSHIP");
        create(&app, RECRUIT, "recruitExpert", other).await;

        let list = "query($f: ExpertFilter) { experts(filter: $f, orderBy: NAME) { totalCount nodes { name field } } }";
        let cases = [
            (json!({ "field": "LAW" }), 2),
            (json!({ "townId": w.shijie }), 2),
            (json!({ "townId": w.shijie, "field": "LAW" }), 1),
            (json!({ "recruitedById": w.shijie_home }), 1),
            (json!({ "districtId": w.district_2 }), 1),
            (json!({ "search": "创业" }), 1),
            (json!({ "search": "律师协会" }), 3),
            (json!({ "joinedFrom": "2000-01-01T00:00:00Z" }), 4),
            (json!({ "joinedBefore": "2000-01-01T00:00:00Z" }), 0),
        ];
        for (filter, n) in cases {
            let data = app.data(list, json!({ "f": filter })).await;
            assert_eq!(data["experts"]["totalCount"], n, "filter {filter}");
            assert_eq!(data["experts"]["nodes"].as_array().unwrap().len(), n, "filter {filter}");
        }
        let first = app.data("{ experts(first: 2, orderBy: NAME) { pageInfo { hasNextPage } nodes { name } } }", json!({})).await;
        assert_eq!(first["experts"]["pageInfo"]["hasNextPage"], true);
    }
}
