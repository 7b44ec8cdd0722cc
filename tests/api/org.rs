//! Districts and the org-unit tree.

use serde_json::{json, Value};

use crate::both_databases;

const DISTRICT_TOWNS: [&[&str]; 3] = [
    &[
        "莞城",
        "石龙",
        "虎门",
        "东城",
        "万江",
        "南城",
        "中堂",
        "望牛墩",
        "麻涌",
        "石碣",
        "高埗",
    ],
    &[
        "洪梅",
        "道滘",
        "厚街",
        "沙田",
        "长安",
        "寮步",
        "大岭山",
        "大朗",
        "黄江",
    ],
    &[
        "樟木头",
        "凤岗",
        "塘厦",
        "谢岗",
        "清溪",
        "常平",
        "桥头",
        "横沥",
        "东坑",
        "企石",
        "石排",
        "茶山",
    ],
];

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

const CREATE_UNIT: &str = "mutation($input: CreateOrgUnitInput!) {
    createOrgUnit(input: $input) { id code kind town { code } district { code } }
}";

both_databases! {
    async fn districts_list_exactly_the_towns_of_the_notice(app) {
        app.load_demo(0.02).await;
        let data = app.data("{ districts { nodes { name towns(first: 100) { nodes { name } } } } }", json!({})).await;
        let districts = data["districts"]["nodes"].as_array().unwrap();
        assert_eq!(districts.len(), 3);
        for (district, expected) in districts.iter().zip(DISTRICT_TOWNS) {
            let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            expected.sort();
            assert_eq!(names(&district["towns"]["nodes"]), expected, "towns of {}", district["name"]);
        }
        let units = app
            .data("{ districts { nodes { units(filter: {kind: CITY_UNIT}) { nodes { name } } } } }", json!({}))
            .await;
        assert_eq!(names(&units["districts"]["nodes"][1]["units"]["nodes"]), ["市志联", "爱心家园", "莞香花"]);
    }

    async fn every_town_has_at_least_one_youth_home(app) {
        app.load_demo(0.02).await;
        let data = app
            .data("{ orgUnits(filter: {kind: TOWN}, first: 100) { totalCount nodes { name youthHomes { nodes { town { name } } } } } }", json!({}))
            .await;
        assert_eq!(data["orgUnits"]["totalCount"], 32);
        for town in data["orgUnits"]["nodes"].as_array().unwrap() {
            let homes = town["youthHomes"]["nodes"].as_array().unwrap();
            assert!(!homes.is_empty(), "{} has no Youth Home", town["name"]);
            assert!(homes.iter().all(|h| h["town"]["name"] == town["name"]));
        }
    }

    async fn org_units_page_forwards_and_backwards_without_gaps(app) {
        app.load_demo(0.02).await;
        let page = "query($after: String, $before: String, $first: Int, $last: Int) {
            orgUnits(filter: {kind: TOWN}, orderBy: CODE, first: $first, after: $after, last: $last, before: $before) {
                totalCount
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
                edges { cursor node { code } }
            }
        }";
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app.data(page, json!({ "first": 7, "after": after })).await;
            let conn = &data["orgUnits"];
            assert_eq!(conn["totalCount"], 32);
            for edge in conn["edges"].as_array().unwrap() {
                seen.push(edge["node"]["code"].as_str().unwrap().to_owned());
            }
            if conn["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = conn["pageInfo"]["endCursor"].clone();
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(seen, sorted, "pages come in order without repeats");
        assert_eq!(seen.len(), 32);

        let tail = app.data(page, json!({ "last": 5 })).await;
        let tail_codes: Vec<&str> = tail["orgUnits"]["edges"].as_array().unwrap().iter()
            .map(|e| e["node"]["code"].as_str().unwrap()).collect();
        assert_eq!(tail_codes, seen[27..].iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(tail["orgUnits"]["pageInfo"]["hasPreviousPage"], true);
        let before = tail["orgUnits"]["pageInfo"]["startCursor"].clone();
        let previous = app.data(page, json!({ "last": 3, "before": before })).await;
        let codes: Vec<&str> = previous["orgUnits"]["edges"].as_array().unwrap().iter()
            .map(|e| e["node"]["code"].as_str().unwrap()).collect();
        assert_eq!(codes, seen[24..27].iter().map(String::as_str).collect::<Vec<_>>());
    }

    async fn text_search_finds_units_by_chinese_or_english_name(app) {
        app.load_demo(0.02).await;
        let q = "query($s: String) { orgUnits(filter: {search: $s, kind: TOWN}) { nodes { code } } }";
        let data = app.data(q, json!({ "s": "石碣" })).await;
        assert_eq!(data["orgUnits"]["nodes"], json!([{ "code": "town-shijie" }]));
        let data = app.data(q, json!({ "s": "Humen" })).await;
        assert_eq!(data["orgUnits"]["nodes"], json!([{ "code": "town-humen" }]));
        let none = app.data(q, json!({ "s": "100%_" })).await;
        assert_eq!(none["orgUnits"]["nodes"], json!([]));
    }

    async fn a_new_youth_home_takes_its_town_and_district(app) {
        app.load_demo(0.02).await;
        let town = app.unit_id("town-shijie").await;
        let data = app
            .data(CREATE_UNIT, json!({ "input": {
                "code": "home-shijie-new", "name": "石碣第二青年之家", "kind": "YOUTH_HOME",
                "parentId": town, "registered": true, "foundedOn": "2017-11-20"
            }}))
            .await;
        let home = &data["createOrgUnit"];
        assert_eq!(home["town"]["code"], "town-shijie");
        assert_eq!(home["district"]["code"], "D1");
    }

    async fn misplaced_or_duplicate_units_are_refused_and_nothing_is_written(app) {
        app.load_demo(0.02).await;
        let before = app.count("org_unit").await;
        let town = app.unit_id("town-shijie").await;
        let cases = [
            json!({ "code": "home-x", "name": "x", "kind": "YOUTH_HOME", "parentId": "999999" }),
            json!({ "code": "town-x", "name": "x", "kind": "TOWN", "parentId": app.unit_id("city").await }),
            json!({ "code": "town-shijie", "name": "x", "kind": "YOUTH_HOME", "parentId": town }),
            json!({ "code": "Bad Code", "name": "x", "kind": "YOUTH_HOME", "parentId": town }),
            json!({ "code": "home-y", "name": "  ", "kind": "YOUTH_HOME", "parentId": town }),
            json!({ "code": "home-z", "name": "x", "kind": "YOUTH_HOME", "parentId": town, "populationCoefficient": 0.1 }),
            json!({ "code": "home-w", "name": "x", "kind": "YOUTH_HOME", "parentId": "abc" }),
        ];
        for input in cases {
            let (code, message) = app.error(CREATE_UNIT, json!({ "input": input })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{input}: {message}");
            assert!(!message.is_empty());
        }
        assert_eq!(app.count("org_unit").await, before);
    }

    async fn a_unit_cannot_move_under_its_own_youth_home(app) {
        app.load_demo(0.02).await;
        let town = app.unit_id("town-shijie").await;
        let homes = app
            .data("query($id: ID) { orgUnit(id: $id) { youthHomes { nodes { id } } } }", json!({ "id": town }))
            .await;
        let home = homes["orgUnit"]["youthHomes"]["nodes"][0]["id"].clone();
        let (code, message) = app
            .error(
                "mutation($id: ID!, $p: ID) { updateOrgUnit(id: $id, input: {parentId: $p}) { id } }",
                json!({ "id": town, "p": home }),
            )
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
    }

    async fn updating_an_unknown_unit_is_not_found(app) {
        let (code, _) = app
            .error("mutation { updateOrgUnit(id: \"424242\", input: {name: \"x\"}) { id } }", json!({}))
            .await;
        assert_eq!(code, "NOT_FOUND");
    }
}
