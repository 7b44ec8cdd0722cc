//! Questions and answers: asking, answering (experts marked), moderation, filters, batching.

pub mod setup;
mod topics;

use serde_json::{json, Value};

use crate::both_databases;
use setup::{answer, ask, recruit, world, ANSWER, ASK};

const QUESTION: &str = "query($id: ID!) { question(id: $id) {
    title status answerCount asker { nickname } addressedTo { code }
    answers { nodes { body byExpert author { __typename ... on Expert { name field } ... on Member { nickname } ... on OrgUnit { code } } } }
} }";

const UPDATE_QUESTION: &str = "mutation($id: ID!, $input: UpdateQuestionInput!) {
    updateQuestion(id: $id, input: $input) { id title status }
}";

fn titles(connection: &Value) -> Vec<String> {
    let mut titles: Vec<String> = connection["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    titles
}

both_databases! {
    async fn a_question_answered_by_an_expert_counts_one_answer_marked_as_by_expert(app) {
        let w = world(&app, 2).await;
        let question = ask(&app, &w.members[0], Some(&w.shijie), "劳动合同纠纷").await;
        let expert = recruit(&app, &w.members[1], &w.shijie, "LAW").await;
        answer(&app, &question, json!({ "expertId": expert })).await;

        let data = app.data(QUESTION, json!({ "id": question })).await;
        let q = &data["question"];
        assert_eq!(q["status"], "VISIBLE");
        assert_eq!(q["answerCount"], 1);
        assert_eq!(q["asker"]["nickname"], "青年0");
        assert_eq!(q["addressedTo"]["code"], "town-shijie");
        let answers = q["answers"]["nodes"].as_array().unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0]["byExpert"], true);
        assert_eq!(answers[0]["author"]["__typename"], "Expert");
        assert_eq!(answers[0]["author"]["field"], "LAW");
    }

    async fn answers_by_members_and_org_units_are_listed_in_time_order_and_not_marked(app) {
        let w = world(&app, 2).await;
        let question = ask(&app, &w.members[0], None, "周末去哪里做志愿者").await;
        answer(&app, &question, json!({ "memberId": w.members[1] })).await;
        answer(&app, &question, json!({ "orgUnitId": w.shijie_home })).await;

        let data = app.data(QUESTION, json!({ "id": question })).await;
        let q = &data["question"];
        assert_eq!(q["answerCount"], 2);
        assert!(q["addressedTo"].is_null());
        let answers = q["answers"]["nodes"].as_array().unwrap();
        assert_eq!(answers[0]["author"]["__typename"], "Member");
        assert_eq!(answers[0]["author"]["nickname"], "青年1");
        assert_eq!(answers[1]["author"]["__typename"], "OrgUnit");
        assert_eq!(answers[1]["author"]["code"], "home-shijie");
        assert!(answers.iter().all(|a| a["byExpert"] == false));
    }

    async fn an_answer_without_exactly_one_author_is_refused(app) {
        let w = world(&app, 2).await;
        let question = ask(&app, &w.members[0], None, "如何申请创业补贴").await;
        let before = app.count("answer").await;
        let base = json!({ "questionId": question, "body": "可以去人社局咨询。" });
        let mut two = base.clone();
        two["memberId"] = json!(w.members[1]);
        two["orgUnitId"] = json!(w.shijie);
        for input in [base, two] {
            let (code, message) = app.error(ANSWER, json!({ "input": input })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
            assert!(message.contains("exactly one"), "{message}");
        }
        assert_eq!(app.count("answer").await, before);
    }

    async fn spam_and_deleted_questions_cannot_be_answered(app) {
        let w = world(&app, 2).await;
        let spam = ask(&app, &w.members[0], None, "加微信领红包").await;
        let deleted = ask(&app, &w.members[0], None, "发错了").await;
        for (id, status) in [(&spam, "SPAM"), (&deleted, "DELETED")] {
            let data = app
                .data(UPDATE_QUESTION, json!({ "id": id, "input": { "status": status } }))
                .await;
            assert_eq!(data["updateQuestion"]["status"], status);
        }
        let before = app.count("answer").await;
        for id in [&spam, &deleted] {
            let input = json!({ "questionId": id, "body": "回复", "memberId": w.members[1] });
            let (code, message) = app.error(ANSWER, json!({ "input": input })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
            assert!(message.contains("cannot be answered"), "{message}");
        }
        assert_eq!(app.count("answer").await, before);
    }

    async fn unknown_ids_in_questions_and_answers_are_bad_input_and_write_nothing(app) {
        let w = world(&app, 1).await;
        let question = ask(&app, &w.members[0], None, "租房合同").await;
        let (questions, answers) = (app.count("question").await, app.count("answer").await);

        let asks = [
            json!({ "askerId": "987654", "title": "问题" }),
            json!({ "askerId": w.members[0], "addressedToId": "987654", "title": "问题" }),
            json!({ "askerId": w.members[0], "title": "   " }),
        ];
        for input in asks {
            let (code, message) = app.error(ASK, json!({ "input": input })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
        }
        let bad_answers = [
            json!({ "questionId": "987654", "body": "回复", "memberId": w.members[0] }),
            json!({ "questionId": question, "body": "回复", "memberId": "987654" }),
            json!({ "questionId": question, "body": "回复", "expertId": "987654" }),
            json!({ "questionId": question, "body": "回复", "orgUnitId": "987654" }),
            json!({ "questionId": question, "body": " ", "memberId": w.members[0] }),
        ];
        for input in bad_answers {
            let (code, message) = app.error(ANSWER, json!({ "input": input })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
        }
        assert_eq!(app.count("question").await, questions);
        assert_eq!(app.count("answer").await, answers);
    }

    async fn questions_and_answers_are_edited_and_missing_ones_are_not_found(app) {
        let w = world(&app, 1).await;
        let question = ask(&app, &w.members[0], None, "旧标题").await;
        let answer_id = answer(&app, &question, json!({ "orgUnitId": w.shijie })).await;
        let data = app
            .data(UPDATE_QUESTION, json!({ "id": question, "input": { "title": " 新标题 " } }))
            .await;
        assert_eq!(data["updateQuestion"]["title"], "新标题");
        let (code, _) = app
            .error(UPDATE_QUESTION, json!({ "id": question, "input": { "title": "" } }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        let (code, _) = app
            .error(UPDATE_QUESTION, json!({ "id": "987654", "input": { "status": "SPAM" } }))
            .await;
        assert_eq!(code, "NOT_FOUND");

        let update_answer = "mutation($id: ID!, $body: String) { updateAnswer(id: $id, input: {body: $body}) { body question { title } } }";
        let data = app.data(update_answer, json!({ "id": answer_id, "body": "新的回答" })).await;
        assert_eq!(data["updateAnswer"]["body"], "新的回答");
        assert_eq!(data["updateAnswer"]["question"]["title"], "新标题");
        let (code, _) = app.error(update_answer, json!({ "id": answer_id, "body": "  " })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        let (code, _) = app.error(update_answer, json!({ "id": "987654", "body": "x" })).await;
        assert_eq!(code, "NOT_FOUND");
    }

    async fn questions_are_filtered_by_town_district_asker_status_and_text(app) {
        let w = world(&app, 2).await;
        ask(&app, &w.members[0], Some(&w.shijie), "石碣的问题").await;
        ask(&app, &w.members[1], Some(&w.shijie_home), "青年之家的问题").await;
        ask(&app, &w.members[0], Some(&w.houjie), "厚街的问题").await;
        let spam = ask(&app, &w.members[1], None, "没有对象的问题").await;
        app.data(UPDATE_QUESTION, json!({ "id": spam, "input": { "status": "SPAM" } })).await;

        let list = "query($f: QuestionFilter) { questions(filter: $f, first: 50) { totalCount nodes { title } } }";
        let cases = [
            (json!({ "townId": w.shijie }), vec!["石碣的问题", "青年之家的问题"]),
            (json!({ "districtId": w.district_2 }), vec!["厚街的问题"]),
            (json!({ "addressedToId": w.shijie_home }), vec!["青年之家的问题"]),
            (json!({ "askerId": w.members[0] }), vec!["厚街的问题", "石碣的问题"]),
            (json!({ "status": "SPAM" }), vec!["没有对象的问题"]),
            (json!({ "search": "青年之家" }), vec!["青年之家的问题"]),
            (json!({ "search": "怎么办", "districtId": w.district_1 }), vec!["石碣的问题", "青年之家的问题"]),
            (json!({ "askedBefore": "2000-01-01T00:00:00Z" }), vec![]),
        ];
        for (filter, expected) in cases {
            let data = app.data(list, json!({ "f": filter })).await;
            let mut expected: Vec<String> = expected.into_iter().map(String::from).collect();
            expected.sort();
            assert_eq!(titles(&data["questions"]), expected, "filter {filter}");
            assert_eq!(data["questions"]["totalCount"], expected.len(), "filter {filter}");
        }
    }

    async fn answers_are_filtered_by_question_and_author(app) {
        let w = world(&app, 2).await;
        let expert = recruit(&app, &w.members[1], &w.shijie, "PSYCHOLOGY").await;
        let first = ask(&app, &w.members[0], None, "考试焦虑").await;
        let second = ask(&app, &w.members[0], None, "失眠").await;
        answer(&app, &first, json!({ "expertId": expert })).await;
        answer(&app, &second, json!({ "expertId": expert })).await;
        answer(&app, &second, json!({ "memberId": w.members[1] })).await;
        answer(&app, &second, json!({ "orgUnitId": w.shijie })).await;

        let list = "query($f: AnswerFilter) { answers(filter: $f) { totalCount nodes { byExpert } } }";
        let cases = [
            (json!({ "expertId": expert }), 2),
            (json!({ "questionId": second }), 3),
            (json!({ "memberId": w.members[1] }), 1),
            (json!({ "orgUnitId": w.shijie, "questionId": first }), 0),
            (json!({ "answeredFrom": "2000-01-01T00:00:00Z" }), 4),
        ];
        for (filter, n) in cases {
            let data = app.data(list, json!({ "f": filter })).await;
            assert_eq!(data["answers"]["totalCount"], n, "filter {filter}");
        }
        let expert_count = app
            .data("query($id: ID!) { expert(id: $id) { answerCount } }", json!({ "id": expert }))
            .await;
        assert_eq!(expert_count["expert"]["answerCount"], 2);
    }

    async fn questions_with_askers_answers_and_authors_take_a_bounded_number_of_statements(app) {
        let w = world(&app, 4).await;
        let expert = recruit(&app, &w.members[3], &w.shijie, "CAREER").await;
        for i in 0..12 {
            let q = ask(&app, &w.members[i % 3], Some(&w.shijie_home), &format!("问题{i}")).await;
            answer(&app, &q, json!({ "memberId": w.members[(i + 1) % 3] })).await;
            answer(&app, &q, json!({ "expertId": expert })).await;
            answer(&app, &q, json!({ "orgUnitId": w.shijie })).await;
        }
        let query = "{ questions(first: 50) { nodes { asker { nickname } answers { nodes { author { __typename } } } answerCount } } }";
        let before = app.statements.get();
        let data = app.data(query, json!({})).await;
        let statements = app.statements.get() - before;

        let nodes = data["questions"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 12);
        assert!(nodes.iter().all(|q| q["answerCount"] == 3));
        // One page query; one batch each for askers, answers and answer counts; then one
        // per kind of author (members, experts, org units).
        assert!(statements <= 7, "{statements} statements for 12 questions and 36 answers");
    }
}
