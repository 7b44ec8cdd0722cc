//! Access control through the real server: token attacks, sign-in and refresh,
//! revocation, the role × operation matrix with cross-town attempts, masking of personal
//! data, request limits and the audit log.

use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use qii_domain::identity::{Role, Scope};
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{first_error, TestApp, TEST_SECRET};

/// Two towns; town A has a Youth Home and a member, town B a member.
struct World {
    town_a: String,
    town_b: String,
    home_a: String,
    member_a: String,
    member_b: String,
}

async fn create(app: &TestApp, input: Value) -> String {
    let data = app
        .data(
            "mutation($i: CreateOrgUnitInput!) { createOrgUnit(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
    data["createOrgUnit"]["id"].as_str().unwrap().to_owned()
}

async fn world(app: &TestApp) -> World {
    let city = crate::activity_loop::city(app).await;
    let district = app
        .data("mutation { createDistrict(input: {code: \"coast\", name: \"滨海片区\", nameEn: \"Coast\"}) { id } }", json!({}))
        .await["createDistrict"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let town_a = create(app, json!({"code": "town-a", "name": "虎门", "kind": "TOWN", "parentId": city, "districtId": district})).await;
    let town_b = create(app, json!({"code": "town-b", "name": "长安", "kind": "TOWN", "parentId": city, "districtId": district})).await;
    let home_a = create(
        app,
        json!({"code": "home-a", "name": "虎门青年之家", "kind": "YOUTH_HOME", "parentId": town_a}),
    )
    .await;
    let register = |town: String, nickname: &'static str, mobile: &'static str| async move {
        app.data(
            "mutation($i: RegisterMemberInput!) { registerMember(input: $i) { id } }",
            json!({ "i": { "nickname": nickname, "homeTownId": town, "mobile": mobile } }),
        )
        .await["registerMember"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let member_a = register(town_a.clone(), "张三丰", "13812345678").await;
    let member_b = register(town_b.clone(), "李四", "13987654321").await;
    World {
        town_a,
        town_b,
        home_a,
        member_a,
        member_b,
    }
}

fn id(s: &str) -> i64 {
    s.parse().unwrap()
}

/// What a request came to: `OK`, or the error code.
async fn outcome(app: &TestApp, token: Option<&str>, query: &str, vars: Value) -> String {
    let response = app.graphql_as(token, query, vars).await;
    match response["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => code.to_owned(),
        None => "OK".to_owned(),
    }
}

const MEMBERS: &str = "{ members(first: 50) { nodes { id nickname mobile } } }";
const CREATE_ACTIVITY: &str =
    "mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }";
const RANKING: &str = "{ ranking(period: \"2017-10\") { entries { nodes { rank } } } }";
const SET_TARGET: &str = "mutation($i: SetTargetInput!) { setTarget(input: $i) { id } }";
const AUDIT: &str = "{ auditLog(first: 50) { nodes { action actor target detail } } }";
const QUESTIONS: &str = "{ questions(first: 5) { totalCount } }";
const ACTIVITIES: &str = "{ activities(first: 5) { totalCount } }";
const PUBLISH: &str = "mutation($p: String!, $s: String!, $t: String) { publishRuleSet(path: $p, source: $s, tests: $t) { release { id } } }";

fn activity_input(unit: &str) -> Value {
    let at = |hours: i64| (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339();
    json!({ "i": { "orgUnitId": unit, "title": "青年志愿服务", "kind": "OFFLINE", "category": "VOLUNTEER_SERVICE",
                   "startsAt": at(1), "endsAt": at(3) } })
}

both_databases! {
    async fn every_role_may_do_what_its_role_allows_and_nothing_across_towns(app) {
        let w = world(&app).await;
        let city = app.token.clone();
        let rule = app.token_for(Role::RuleAdmin, "rules");
        let town_a = app.token_for(Role::TownAdmin(id(&w.town_a)), "town-a-admin");
        let town_b = app.token_for(Role::TownAdmin(id(&w.town_b)), "town-b-admin");
        let home_a = app.token_for(Role::YouthHomeAdmin(id(&w.home_a)), "home-a-admin");
        let member = app.token_for(Role::Member(id(&w.member_a)), "member-a");
        let partner = app.partner_token();
        let blind = app.token_for(Role::Partner(vec![]), "partner-without-scopes");
        let roles: [(&str, Option<&str>); 9] = [
            ("city", Some(&city)), ("rule", Some(&rule)), ("townA", Some(&town_a)),
            ("townB", Some(&town_b)), ("homeA", Some(&home_a)), ("member", Some(&member)),
            ("partner", Some(&partner)), ("blind", Some(&blind)), ("anonymous", None),
        ];
        let target = json!({ "i": { "orgUnitId": w.town_a, "period": "2017-10", "metric": "registrations", "value": 10.0 } });
        let source = std::fs::read_to_string(crate::helpers::shipped_rules().join("qii/v2.rhai")).unwrap();
        let tests = std::fs::read_to_string(crate::helpers::shipped_rules().join("qii/v2.tests.json")).unwrap();
        let publish = json!({ "p": "qii/v2.rhai", "s": source, "t": tests });
        // (operation, variables, expected outcome for each role in the order above)
        let matrix: Vec<(&str, &str, Value, [&str; 9])> = vec![
            ("public activity listing", ACTIVITIES, json!({}),
             ["OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK"]),
            ("members list", MEMBERS, json!({}),
             ["OK", "FORBIDDEN", "OK", "OK", "FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"]),
            ("public questions", QUESTIONS, json!({}),
             ["OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK", "OK"]),
            ("ranking", RANKING, json!({}),
             ["OK", "OK", "OK", "OK", "OK", "OK", "OK", "FORBIDDEN", "UNAUTHENTICATED"]),
            ("publish an activity of town A", CREATE_ACTIVITY, activity_input(&w.town_a),
             ["OK", "FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"]),
            ("publish an activity of town A's Youth Home", CREATE_ACTIVITY, activity_input(&w.home_a),
             ["OK", "FORBIDDEN", "OK", "FORBIDDEN", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"]),
            ("set a target", SET_TARGET, target,
             ["OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"]),
            ("publish a rule script", PUBLISH, publish,
             ["OK", "OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"]),
            ("read the audit log", AUDIT, json!({}),
             ["OK", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"]),
        ];
        let mut wrong = Vec::new();
        for (what, query, vars, expected) in &matrix {
            for ((role, token), expected) in roles.iter().zip(expected) {
                let got = outcome(&app, *token, query, vars.clone()).await;
                if got != *expected {
                    wrong.push(format!("{what} as {role}: expected {expected}, got {got}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));

        // Row by row: each town admin lists only its own members; a member only themself.
        let ids = |data: Value| -> Vec<String> {
            data["members"]["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(ids(app.data_as(Some(&town_a), MEMBERS, json!({})).await), vec![w.member_a.clone()]);
        assert_eq!(ids(app.data_as(Some(&town_b), MEMBERS, json!({})).await), vec![w.member_b.clone()]);
        assert_eq!(ids(app.data_as(Some(&member), MEMBERS, json!({})).await), vec![w.member_a.clone()]);
        // Another town's member by id is not there for town B; changing it is refused.
        let one = "query($id: ID!) { member(id: $id) { id } }";
        assert!(app.data_as(Some(&town_b), one, json!({"id": w.member_a})).await["member"].is_null());
        let (code, message) = app.error_as(Some(&town_b),
            "mutation($id: ID!) { updateMember(id: $id, input: {nickname: \"x\"}) { id } }",
            json!({"id": w.member_a})).await;
        assert_eq!(code, "FORBIDDEN", "{message}");
        let updated = app.data("query($id: ID!) { member(id: $id) { nickname } }", json!({"id": w.member_a})).await;
        assert_eq!(updated["member"]["nickname"], "张三丰", "nothing was written");
        // Town B cannot touch town A's activity.
        let activity = app.data(CREATE_ACTIVITY, activity_input(&w.home_a)).await["createActivity"]["id"].as_str().unwrap().to_owned();
        let (code, _) = app.error_as(Some(&town_b),
            "mutation($id: ID!) { updateActivity(id: $id, input: {title: \"改\"}) { id } }",
            json!({"id": activity})).await;
        assert_eq!(code, "FORBIDDEN");
        // A member signs up as themself, not as someone else.
        let sign_up = "mutation($a: ID!, $m: ID!) { signUp(input: {activityId: $a, memberId: $m}) { id } }";
        app.data_as(Some(&member), sign_up, json!({"a": activity, "m": w.member_a})).await;
        let (code, _) = app.error_as(Some(&member), sign_up, json!({"a": activity, "m": w.member_b})).await;
        assert_eq!(code, "FORBIDDEN");
        // Sign-ups are private to the host's administrators and the member.
        let signups = "{ activitySignups(first: 10) { totalCount } }";
        assert_eq!(app.data_as(Some(&home_a), signups, json!({})).await["activitySignups"]["totalCount"], 1);
        assert_eq!(app.data_as(Some(&town_b), signups, json!({})).await["activitySignups"]["totalCount"], 0);
        assert_eq!(app.data_as(Some(&member), signups, json!({})).await["activitySignups"]["totalCount"], 1);
    }

    async fn names_and_mobiles_are_masked_for_roles_that_do_not_need_them(app) {
        let w = world(&app).await;
        let town_a = app.token_for(Role::TownAdmin(id(&w.town_a)), "town-a-admin");
        let town_b = app.token_for(Role::TownAdmin(id(&w.town_b)), "town-b-admin");
        let member_b = app.token_for(Role::Member(id(&w.member_b)), "member-b");
        let activity = app.data(CREATE_ACTIVITY, activity_input(&w.home_a)).await["createActivity"]["id"].as_str().unwrap().to_owned();
        app.data("mutation($a: ID!, $m: ID!) { commentOnActivity(input: {activityId: $a, memberId: $m, body: \"好\"}) { id } }",
            json!({"a": activity, "m": w.member_a})).await;
        let comments = "query($a: ID!) { activity(id: $a) { comments { nodes { member { nickname mobile } } } } }";
        let seen = |data: Value| data["activity"]["comments"]["nodes"][0]["member"].clone();
        let full = seen(app.data_as(Some(&town_a), comments, json!({"a": activity})).await);
        assert_eq!(full, json!({"nickname": "张三丰", "mobile": "13812345678"}));
        for token in [Some(town_b.as_str()), Some(member_b.as_str()), None] {
            let masked = seen(app.data_as(token, comments, json!({"a": activity})).await);
            assert_eq!(masked, json!({"nickname": "张**", "mobile": "138****5678"}));
        }
        assert_eq!(seen(app.data(comments, json!({"a": activity})).await)["mobile"], "13812345678");
    }

    async fn a_password_signs_in_refreshes_once_and_signs_out(app) {
        let w = world(&app).await;
        let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { id username role } }";
        app.data(create, json!({"i": {"username": "hu.men", "displayName": "虎门团委", "password": "correct horse battery",
            "role": "TOWN_ADMIN", "orgUnitId": w.town_a}})).await;
        // A town admin without its unit is refused, nothing written.
        let (code, message) = app.error(create, json!({"i": {"username": "nobody", "displayName": "x",
            "password": "correct horse battery", "role": "TOWN_ADMIN"}})).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert_eq!(app.count("app_user").await, 1);

        let login = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken user { role } } }";
        let (code, _) = app.error_as(None, login, json!({"u": "hu.men", "p": "wrong password!"})).await;
        assert_eq!(code, "UNAUTHENTICATED");
        let (code, _) = app.error_as(None, login, json!({"u": "nobody", "p": "wrong password!"})).await;
        assert_eq!(code, "UNAUTHENTICATED");
        let session = app.data_as(None, login, json!({"u": "hu.men", "p": "correct horse battery"})).await["login"].clone();
        assert_eq!(session["user"]["role"], "TOWN_ADMIN");
        let access = session["accessToken"].as_str().unwrap().to_owned();
        let viewer = "{ viewer { role subject orgUnitId } }";
        let me = app.data_as(Some(&access), viewer, json!({})).await;
        assert_eq!(me["viewer"], json!({"role": "town_admin", "subject": "hu.men", "orgUnitId": w.town_a}));

        let refresh = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }";
        let first = session["refreshToken"].as_str().unwrap().to_owned();
        let renewed = app.data_as(None, refresh, json!({"t": first})).await["refreshToken"].clone();
        let second = renewed["refreshToken"].as_str().unwrap().to_owned();
        // Using a refresh token twice ends the sign-in: the newer one stops working too.
        let (code, _) = app.error_as(None, refresh, json!({"t": first})).await;
        assert_eq!(code, "UNAUTHENTICATED");
        let (code, _) = app.error_as(None, refresh, json!({"t": second})).await;
        assert_eq!(code, "UNAUTHENTICATED");

        // Signing out revokes the access token at once.
        let again = app.data_as(None, login, json!({"u": "hu.men", "p": "correct horse battery"})).await["login"].clone();
        let token = again["accessToken"].as_str().unwrap().to_owned();
        app.data_as(Some(&token), "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({"t": again["refreshToken"]})).await;
        let response = app.post_as(Some(&token), viewer, json!({})).await;
        assert_eq!(response.status(), 401);

        // Disabling the account revokes what it holds and stops sign-in.
        let third = app.data_as(None, login, json!({"u": "hu.men", "p": "correct horse battery"})).await["login"]["accessToken"].as_str().unwrap().to_owned();
        let user_id = app.data("{ users { nodes { id } } }", json!({})).await["users"]["nodes"][0]["id"].clone();
        app.data("mutation($id: ID!) { updateUser(id: $id, input: {disabled: true}) { disabled } }", json!({"id": user_id})).await;
        assert_eq!(app.post_as(Some(&third), viewer, json!({})).await.status(), 401);
        let (code, _) = app.error_as(None, login, json!({"u": "hu.men", "p": "correct horse battery"})).await;
        assert_eq!(code, "FORBIDDEN");
    }

    async fn forged_expired_and_misdirected_tokens_get_401(app) {
        let now = chrono::Utc::now().timestamp();
        let claims = |changes: Value| {
            let mut c = json!({"sub": "mallory", "role": "city_admin", "iss": "qii", "aud": "qii",
                               "iat": now, "nbf": now, "exp": now + 600, "jti": "x1"});
            for (k, v) in changes.as_object().unwrap() {
                if v.is_null() { c.as_object_mut().unwrap().remove(k); } else { c[k] = v.clone(); }
            }
            c
        };
        let hs = |claims: Value, secret: &str| {
            encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
        };
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let unsigned = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims(json!({})).to_string()));
        let good = hs(claims(json!({})), TEST_SECRET);
        let cases = [
            ("alg none", unsigned),
            ("another secret", hs(claims(json!({})), "another-secret-of-at-least-32-chars")),
            ("tampered payload", {
                let parts: Vec<&str> = good.split('.').collect();
                format!("{}.{}.{}", parts[0], b64(&claims(json!({"sub": "root"})).to_string()), parts[2])
            }),
            ("expired", hs(claims(json!({"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600})), TEST_SECRET)),
            ("not yet valid", hs(claims(json!({"nbf": now + 3600})), TEST_SECRET)),
            ("wrong audience", hs(claims(json!({"aud": "someone-else"})), TEST_SECRET)),
            ("unknown issuer", hs(claims(json!({"iss": "evil"})), TEST_SECRET)),
            ("no expiry", hs(claims(json!({"exp": null})), TEST_SECRET)),
            ("garbage", "not-a-token".to_owned()),
        ];
        for (what, token) in cases {
            let response = app.post_as(Some(&token), ACTIVITIES, json!({})).await;
            assert_eq!(response.status(), 401, "{what}");
            assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
            let (code, message) = first_error(response.json().await.unwrap());
            assert_eq!(code, "UNAUTHENTICATED", "{what}: {message}");
            // Plain words, never the parser's internals.
            assert!(!message.contains("Json(") && !message.contains("Error("), "{what}: {message}");
            if what == "no expiry" {
                assert!(message.contains("lacks the `exp` claim"), "{message}");
            }
        }
        // The well-formed one passes.
        assert_eq!(app.data_as(Some(&good), "{ viewer { role } }", json!({})).await["viewer"]["role"], "city_admin");
    }

    async fn revoking_a_token_or_its_subject_takes_effect_at_once(app) {
        let partner = app.partner_token();
        assert_eq!(outcome(&app, Some(&partner), RANKING, json!({})).await, "OK");
        let jti = app.data_as(Some(&partner), "{ viewer { tokenId } }", json!({})).await["viewer"]["tokenId"].as_str().unwrap().to_owned();
        app.data("mutation($id: String!) { revokeToken(id: $id, reason: \"leaked\") }", json!({"id": jti})).await;
        assert_eq!(app.post_as(Some(&partner), RANKING, json!({})).await.status(), 401);

        let a = app.token_for(Role::Partner(vec![Scope::ScoresRead]), "acme");
        let b = app.token_for(Role::Partner(vec![Scope::ScoresRead]), "acme");
        app.data("mutation { revokeSubject(subject: \"acme\", reason: \"contract ended\") }", json!({})).await;
        assert_eq!(app.post_as(Some(&a), RANKING, json!({})).await.status(), 401);
        assert_eq!(app.post_as(Some(&b), RANKING, json!({})).await.status(), 401);
        // A replica sees the revocation too: it lives in the database.
        let replica = app.replica().await;
        assert_eq!(replica.post_as(Some(&a), RANKING, json!({})).await.status(), 401);
        let audit = app.data("{ auditLog(filter: {action: \"token.\"}) { nodes { action } } }", json!({})).await;
        let actions: Vec<&str> = audit["auditLog"]["nodes"].as_array().unwrap().iter().map(|n| n["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["token.revoke", "token.revoke_subject"]);
    }

    async fn rule_changes_decisions_and_account_changes_are_in_the_audit_log(app) {
        let w = world(&app).await;
        let rule = app.token_for(Role::RuleAdmin, "ruth");
        let path = crate::helpers::shipped_rules().join("qii/v2.rhai");
        let source = std::fs::read_to_string(path).unwrap();
        let changed = source.replacen("//", "// reviewed\n//", 1).replace("version: \"2.0.1\"", "version: \"2.0.2\"");
        let tests = std::fs::read_to_string(crate::helpers::shipped_rules().join("qii/v2.tests.json")).unwrap();
        app.data_as(Some(&rule), PUBLISH, json!({"p": "qii/v2.rhai", "s": changed, "t": tests})).await;
        app.data_as(Some(&rule), "mutation { rollbackRuleSet(ruleSet: \"qii\") { release { id } } }", json!({})).await;
        let apply = app.data("mutation($i: ApplyForIncentiveInput!) { applyForIncentive(input: $i) { id } }", json!({"i": {
            "orgUnitId": w.home_a, "activityName": "青年创业沙龙", "scale": 120, "kind": "OFFLINE",
            "description": "创业分享", "intents": ["CULTURAL_GOODS"]}})).await;
        let application = apply["applyForIncentive"]["id"].clone();
        app.data("mutation($id: ID!) { decideIncentiveApplication(id: $id, input: {approve: false, note: \"材料不全\"}) { status } }",
            json!({"id": application})).await;
        app.data("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }", json!({"i": {"username": "ruth",
            "displayName": "规则管理员", "password": "long enough password", "role": "RULE_ADMIN"}})).await;

        let log = app.data(AUDIT, json!({})).await["auditLog"]["nodes"].clone();
        // The rules folder applied at start is recorded first, by the server itself.
        assert_eq!(log[0]["action"], "rules.folder");
        assert_eq!(log[0]["actor"], "rules folder");
        let entries = &log.as_array().unwrap()[1..];
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["rules.publish", "rules.rollback", "incentive.decide", "user.create"]);
        assert_eq!(entries[0]["actor"], "rule_admin:ruth");
        let diff = entries[0]["detail"]["diff"]["qii/v2.rhai"].as_str().unwrap();
        assert!(diff.contains("+// reviewed"), "{diff}");
        let undo = entries[1]["detail"]["diff"]["qii/v2.rhai"].as_str().unwrap();
        assert!(undo.contains("-// reviewed"), "{undo}");
        assert_eq!(entries[2]["detail"]["note"], "材料不全");
        assert_eq!(entries[2]["actor"], "city_admin:test-admin");
        assert_eq!(entries[3]["target"], "user:ruth");
        // Only city administrators read it, and no operation changes it.
        let schema = app.data("{ __schema { mutationType { fields { name } } } }", json!({})).await;
        let mutations = schema["__schema"]["mutationType"]["fields"].as_array().unwrap();
        assert!(mutations.iter().all(|f| !f["name"].as_str().unwrap().to_lowercase().contains("audit")));
    }
}

/// A partner identity provider's RS256 and EdDSA tokens are accepted with their scopes;
/// an HS256 token signed with the provider's public key (algorithm confusion) is not.
async fn provider_tokens(app: TestApp) {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let now = chrono::Utc::now().timestamp();
    let claims = |iss: &str, scope: &str| json!({"sub": "acme-etl", "iss": iss, "aud": "qii", "nbf": now, "iat": now, "exp": now + 600, "scope": scope});
    let rsa =
        EncodingKey::from_rsa_pem(&std::fs::read(fixtures.join("idp-rsa.key")).unwrap()).unwrap();
    let ed = EncodingKey::from_ed_pem(&std::fs::read(fixtures.join("idp-ed25519.key")).unwrap())
        .unwrap();
    let rs_token = encode(
        &Header::new(Algorithm::RS256),
        &claims("https://idp.acme.example", "scores:read"),
        &rsa,
    )
    .unwrap();
    let ed_token = encode(
        &Header::new(Algorithm::EdDSA),
        &claims("https://sso.partner.example", "scores:read openid"),
        &ed,
    )
    .unwrap();
    let unscoped = encode(
        &Header::new(Algorithm::RS256),
        &claims("https://idp.acme.example", "openid"),
        &rsa,
    )
    .unwrap();
    assert_eq!(
        outcome(&app, Some(&rs_token), RANKING, json!({})).await,
        "OK"
    );
    assert_eq!(
        outcome(&app, Some(&ed_token), RANKING, json!({})).await,
        "OK"
    );
    assert_eq!(
        outcome(&app, Some(&unscoped), RANKING, json!({})).await,
        "FORBIDDEN"
    );
    // A partner reads scores only.
    assert_eq!(
        outcome(&app, Some(&rs_token), MEMBERS, json!({})).await,
        "FORBIDDEN"
    );
    // Public questions, like public activities, anyone may read.
    assert_eq!(
        outcome(&app, Some(&rs_token), QUESTIONS, json!({})).await,
        "OK"
    );
    // Claiming a role does not make a provider's token more than a partner's.
    let mut admin = claims("https://idp.acme.example", "scores:read");
    admin["role"] = json!("city_admin");
    let admin = encode(&Header::new(Algorithm::RS256), &admin, &rsa).unwrap();
    assert_eq!(
        outcome(&app, Some(&admin), AUDIT, json!({})).await,
        "FORBIDDEN"
    );
    // Algorithm confusion: HS256 keyed with the public key.
    let public = std::fs::read(fixtures.join("idp-rsa.pub")).unwrap();
    let confused = encode(
        &Header::new(Algorithm::HS256),
        &claims("https://idp.acme.example", "scores:read"),
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    assert_eq!(
        app.post_as(Some(&confused), RANKING, json!({}))
            .await
            .status(),
        401
    );
    // A provider's key cannot sign as this server.
    let mut ours = claims("qii", "scores:read");
    ours["role"] = json!("city_admin");
    let forged = encode(&Header::new(Algorithm::RS256), &ours, &rsa).unwrap();
    assert_eq!(
        app.post_as(Some(&forged), RANKING, json!({}))
            .await
            .status(),
        401
    );
}

fn trust_providers(config: &mut qii_domain::config::Config) {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    config.auth.trusted_issuers = vec![
        format!(
            "https://idp.acme.example|RS256|{}",
            fixtures.join("idp-rsa.pub").display()
        ),
        format!(
            "https://sso.partner.example|EdDSA|{}",
            fixtures.join("idp-ed25519.pub").display()
        ),
    ];
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partners_provider_tokens_are_checked_with_its_key_on_sqlite() {
    provider_tokens(TestApp::sqlite_configured(trust_providers).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partners_provider_tokens_are_checked_with_its_key_on_postgres() {
    if let Some(app) = TestApp::postgres_configured(trust_providers).await {
        provider_tokens(app).await
    }
}

/// Depth, complexity, body size, rate and introspection limits, as configured.
async fn limits(app: TestApp) {
    let deep = "{ orgUnits(first: 1) { nodes { parent { parent { parent { parent { parent { parent { id } } } } } } } } }";
    let (code, message) = first_error(app.graphql(deep, json!({})).await);
    assert!(
        message.contains("levels deep; at most 5"),
        "{code}: {message}"
    );
    assert_eq!(code, "QUERY_TOO_DEEP");
    let fields: Vec<String> = (0..10)
        .map(|i| format!("d{i}: districts {{ nodes {{ id name }} }}"))
        .collect();
    let wide = format!("{{ {} }}", fields.join(" "));
    let (code, message) = first_error(app.graphql(&wide, json!({})).await);
    assert!(message.contains("smaller pages"), "{message}");
    assert_eq!(code, "QUERY_TOO_COMPLEX");
    let fields: Vec<String> = (0..25)
        .map(|i| format!("v{i}: viewer {{ role }}"))
        .collect();
    let aliases = format!("{{ {} }}", fields.join(" "));
    let (code, message) = first_error(app.graphql(&aliases, json!({})).await);
    assert_eq!(code, "TOO_MANY_ROOT_FIELDS", "{message}");
    let introspection = app
        .graphql("{ __schema { queryType { name } } }", json!({}))
        .await;
    // Switched off, the schema is not there to read.
    assert_eq!(
        introspection["data"]["__schema"],
        Value::Null,
        "{introspection:#}"
    );
    let types = app
        .graphql(
            "{ __type(name: \"Member\") { fields { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(types["data"]["__type"], Value::Null, "{types:#}");

    let big = format!(
        "{{ activities(filter: {{search: \"{}\"}}) {{ totalCount }} }}",
        "x".repeat(20_000)
    );
    let response = app.post_as(Some(&app.token), &big, json!({})).await;
    assert_eq!(response.status(), 413);

    // Three requests a minute with a burst of three: the fourth waits.
    let token = app.token_for(Role::CityAdmin, "busy");
    for _ in 0..3 {
        assert_eq!(
            app.post_as(Some(&token), ACTIVITIES, json!({}))
                .await
                .status(),
            200
        );
    }
    let limited = app.post_as(Some(&token), ACTIVITIES, json!({})).await;
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "Retry-After {wait}");
    let (code, _) = first_error(limited.json().await.unwrap());
    assert_eq!(code, "RATE_LIMITED");
    // Another token has its own budget.
    let other = app.partner_token();
    assert_eq!(
        app.post_as(Some(&other), ACTIVITIES, json!({}))
            .await
            .status(),
        200
    );
}

fn tight_limits(config: &mut qii_domain::config::Config) {
    config.limits.max_depth = 5;
    config.limits.max_complexity = 50;
    config.limits.max_body_bytes = 10_000;
    config.limits.rate_per_minute = 3;
    config.limits.rate_burst = 3;
    config.limits.introspection = false;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_limits_refuse_deep_costly_large_and_too_frequent_requests_on_sqlite() {
    limits(TestApp::sqlite_configured(tight_limits).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_limits_refuse_deep_costly_large_and_too_frequent_requests_on_postgres() {
    if let Some(app) = TestApp::postgres_configured(tight_limits).await {
        limits(app).await
    }
}

/// Three requests a minute, all at once at most.
fn three_a_minute(config: &mut qii_domain::config::Config, redis: Option<String>) {
    config.limits.rate_per_minute = 3;
    config.limits.rate_burst = 3;
    config.redis_url = redis;
}

/// The Redis the tests share, when one is configured (`QII_TEST_REDIS_URL`; CI sets it).
fn test_redis() -> Option<String> {
    match std::env::var("QII_TEST_REDIS_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must set QII_TEST_REDIS_URL"
            );
            eprintln!("QII_TEST_REDIS_URL not set: skipping the shared rate limit");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_a_callers_rate_budget_is_shared_by_every_replica() {
    let Some(redis) = test_redis() else {
        return;
    };
    let app = TestApp::sqlite_configured(|c| three_a_minute(c, Some(redis.clone()))).await;
    let other = app
        .replica_configured(|c| three_a_minute(c, Some(redis.clone())))
        .await;
    // A fresh token: its budget is its own, in Redis as everywhere.
    let token = app.partner_token();
    for server in [&app, &app, &other] {
        let status = server
            .post_as(Some(&token), ACTIVITIES, json!({}))
            .await
            .status();
        assert_eq!(status, 200);
    }
    // The fourth request within the minute is refused by either replica: they share it.
    for server in [&other, &app] {
        let limited = server.post_as(Some(&token), ACTIVITIES, json!({})).await;
        assert_eq!(limited.status(), 429);
        assert!(limited.headers().contains_key("retry-after"));
        let (code, _) = first_error(limited.json().await.unwrap());
        assert_eq!(code, "RATE_LIMITED");
    }
    // A batch spends one request per operation, from the same shared budget.
    let fresh = app.partner_token();
    let batch = json!([
        { "query": ACTIVITIES }, { "query": ACTIVITIES }, { "query": ACTIVITIES }
    ]);
    let sent = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&fresh)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert_eq!(
        other
            .post_as(Some(&fresh), ACTIVITIES, json!({}))
            .await
            .status(),
        429
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_reachable_redis_each_replica_keeps_its_own_budget() {
    // Nothing listens on port 1: the server starts, and limits still hold per replica.
    let app =
        TestApp::sqlite_configured(|c| three_a_minute(c, Some("redis://127.0.0.1:1/".to_owned())))
            .await;
    let token = app.partner_token();
    for _ in 0..3 {
        assert_eq!(
            app.post_as(Some(&token), ACTIVITIES, json!({}))
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        app.post_as(Some(&token), ACTIVITIES, json!({}))
            .await
            .status(),
        429
    );
}
