//! Chinese text fragments for the generated rows: names, nicknames, questions, answers,
//! topics, activity titles and comments. `{town}` in a template is replaced by a town name.

use super::random::{chance, int, pick_str, DemoRng};

const SURNAMES: [&str; 30] = [
    "陈", "李", "黄", "张", "梁", "刘", "林", "王", "叶", "何", "罗", "钟", "莫", "邓", "谢", "卢",
    "麦", "袁", "方", "蔡", "郑", "赖", "吴", "周", "杨", "彭", "曾", "苏", "冯", "朱",
];

const GIVEN: [&str; 40] = [
    "伟", "芳", "敏", "静", "丽", "强", "磊", "洋", "艳", "杰", "娟", "涛", "明", "超", "霞", "平",
    "刚", "婷", "俊", "慧", "嘉", "颖", "晓", "锋", "佳", "欣", "浩", "宇", "文", "思", "雅", "志",
    "建", "华", "玲", "燕", "健", "琪", "彤", "梓",
];

const NICK_ADJ: [&str; 16] = [
    "快乐的",
    "追风的",
    "爱笑的",
    "安静的",
    "努力的",
    "阳光",
    "奔跑的",
    "会飞的",
    "不吃香菜的",
    "早起的",
    "佛系",
    "元气",
    "热心",
    "文艺",
    "认真的",
    "逆风的",
];

const NICK_NOUN: [&str; 16] = [
    "小鱼",
    "少年",
    "青年",
    "蜗牛",
    "橙子",
    "小太阳",
    "咸鱼",
    "猫咪",
    "大白",
    "骑士",
    "麦兜",
    "向日葵",
    "追梦人",
    "打工仔",
    "书虫",
    "小确幸",
];

const LATIN_NICKS: [&str; 10] = [
    "Sunny", "Kevin", "Lily", "Jason", "Coco", "Ivy", "Tony", "Amber", "Leo", "Yuki",
];

/// A full name such as 陈嘉欣.
pub(crate) fn person_name(rng: &mut DemoRng) -> String {
    let mut name = pick_str(rng, &SURNAMES).to_owned();
    name.push_str(pick_str(rng, &GIVEN));
    if chance(rng, 0.7) {
        name.push_str(pick_str(rng, &GIVEN));
    }
    name
}

/// A platform nickname, sometimes mentioning the member's town.
pub(crate) fn nickname(rng: &mut DemoRng, town: &str) -> String {
    match int(rng, 0, 9) {
        0..=3 => format!("{}{}", pick_str(rng, &NICK_ADJ), pick_str(rng, &NICK_NOUN)),
        4..=5 => format!("{town}{}{}", pick_str(rng, &NICK_NOUN), int(rng, 1, 99)),
        6..=7 => format!("{}{}", pick_str(rng, &LATIN_NICKS), int(rng, 1, 9999)),
        _ => format!("{}小{}", pick_str(rng, &SURNAMES), pick_str(rng, &GIVEN)),
    }
}

/// A mainland mobile number. The last eight digits are a bijection of `id` (48271 is prime to
/// 10^8), so two members never share a number — the column is unique.
pub(crate) fn mobile(id: i64) -> String {
    const PREFIXES: [&str; 10] = ["38", "39", "35", "36", "37", "58", "59", "88", "86", "89"];
    let n = id.unsigned_abs();
    let prefix = PREFIXES[(n % 10) as usize];
    format!(
        "1{prefix}{:08}",
        (n.wrapping_mul(48271).wrapping_add(1_000_003)) % 100_000_000
    )
}

/// Replaces `{town}` by the town's name.
pub(crate) fn fill(template: &str, town: &str) -> String {
    template.replace("{town}", town)
}

/// Question themes: (title, body) pairs.
pub(crate) const QUESTIONS: [(&str, &str); 16] = [
    (
        "劳动合同到期不续签有补偿吗？",
        "我在{town}一家工厂做了三年，合同下个月到期，公司说不续签了，请问能拿到经济补偿吗？",
    ),
    (
        "试用期被辞退怎么办",
        "入职两个月，主管说我试用期不合格，但没有任何书面考核，我该怎么维权？",
    ),
    (
        "最近压力很大，晚上睡不着",
        "工作和家里的事情很多，最近总是失眠，想找人聊聊，有没有心理咨询的渠道？",
    ),
    (
        "怎么和父母沟通婚恋问题",
        "家里一直催婚，每次回家都吵架，想请教一下怎么和父母沟通比较好。",
    ),
    (
        "想在{town}开一家奶茶店，需要办哪些手续？",
        "打算和朋友合伙创业，不知道营业执照、食品经营许可要去哪里办，有没有创业补贴？",
    ),
    (
        "大学生创业有什么扶持政策？",
        "今年刚毕业，想回东莞创业，请问有没有创业贷款或者场地租金补贴？",
    ),
    (
        "{town}哪里可以参加志愿服务？",
        "周末有空，想参加志愿活动，请问{town}有哪些志愿服务队可以加入？",
    ),
    (
        "青年之家的活动怎么报名？",
        "在平台上看到{town}青年之家有活动，但是不知道怎么报名，报名后还需要签到吗？",
    ),
    (
        "积分入学需要准备什么材料？",
        "孩子明年要上小学，想了解一下{town}积分入学的流程和材料。",
    ),
    (
        "租房押金不退怎么办",
        "租的房子到期搬走，房东以各种理由扣押金，这种情况可以找谁帮忙？",
    ),
    (
        "想学一门技能，有没有免费培训？",
        "在厂里上班，想学电商或者设计，请问团委有没有免费的技能培训课程？",
    ),
    (
        "异地恋坚持不下去了",
        "和女朋友异地两年了，最近经常吵架，不知道还要不要坚持，求建议。",
    ),
    (
        "社保断缴有什么影响？",
        "换工作中间断了两个月社保，会不会影响以后买房和孩子上学？",
    ),
    (
        "怎样提高自己的职场竞争力",
        "工作三年感觉没有进步，想转行又怕风险，有没有职业规划方面的建议？",
    ),
    (
        "十九大报告里对青年有哪些要求？",
        "团支部要组织学习十九大精神，想请教报告中关于青年工作的重点内容。",
    ),
    (
        "{town}有没有青年篮球比赛？",
        "我们几个同事想组队参加篮球比赛，请问最近{town}有没有相关的比赛报名？",
    ),
];

/// Too short to count as a valid question.
pub(crate) const SHORT_QUESTIONS: [&str; 6] =
    ["在吗", "求助", "怎么报名", "你好", "？？", "有人吗"];

/// Answers by members.
pub(crate) const MEMBER_ANSWERS: [&str; 8] = [
    "我之前也遇到过，建议先保留好证据，再去相关部门咨询。",
    "可以关注一下团委公众号，上面经常发布这类信息。",
    "同问，蹲一个专业的回答。",
    "去{town}的青年之家问一下，工作人员挺热心的。",
    "别太焦虑，慢慢来，多和朋友聊聊会好很多。",
    "我去年参加过，流程很简单，在平台上报名就行。",
    "建议拨打12355青少年服务热线咨询。",
    "加油！相信你可以解决的。",
];

/// Answers by experts, whatever their field.
pub(crate) const EXPERT_ANSWERS: [&str; 6] = [
    "您好，根据《劳动合同法》相关规定，用人单位需依法支付经济补偿，建议先与单位协商，协商不成可申请劳动仲裁。",
    "您好，您描述的情况比较常见，建议规律作息、适当运动，如果持续两周以上可以预约专业心理咨询。",
    "创业前建议先做好市场调研和资金规划，东莞对青年创业有担保贷款和场地补贴，可以到人社部门了解。",
    "沟通时先表达理解，再说出自己的想法，避免在情绪激动时讨论，必要时可以请信任的长辈帮忙。",
    "职业规划的第一步是认清自己的兴趣和优势，可以先利用业余时间学习，再考虑转行。",
    "志愿服务可以通过“i志愿”平台报名，记录的服务时长可作为评优参考。",
];

/// Answers by org units (towns, Youth Homes, city units).
pub(crate) const ORG_ANSWERS: [&str; 5] = [
    "您好，{town}团委已收到您的问题，已转交相关部门跟进，请留意平台消息。",
    "您好，欢迎到{town}青年之家现场咨询，我们每周六上午有专家驻点。",
    "您好，相关活动会在“找活动”栏目发布，报名后请按时签到。",
    "感谢您的提问，我们已联系专家志愿者为您解答，请耐心等待。",
    "您好，具体政策请以官方公布为准，也可以拨打12355咨询。",
];

/// Online discussion topics.
pub(crate) const TOPICS: [&str; 12] = [
    "聊聊你心中的{town}",
    "十九大精神青年谈",
    "你的2017关键词是什么？",
    "在东莞打拼的第几年？",
    "周末你都去哪里充电？",
    "晒晒你的家乡美食",
    "青年就业，你最关心什么？",
    "你参加过哪些志愿服务？",
    "如何看待“佛系青年”？",
    "给一年后的自己写一句话",
    "{town}最值得推荐的地方",
    "年终总结怎么写？",
];

/// Comments in topics, activities and service feedback.
pub(crate) const COMMENTS: [&str; 12] = [
    "说得太好了，点赞！",
    "希望以后多举办这样的活动。",
    "第一次参加，收获很多。",
    "工作人员很用心，辛苦了！",
    "下次还来，带上朋友一起。",
    "时间有点短，意犹未尽。",
    "场地不太好找，建议加个指引。",
    "认识了很多新朋友，开心！",
    "内容很实用，学到了。",
    "支持青年之声！",
    "希望能在周末多安排一些场次。",
    "{town}的青年工作做得越来越好了。",
];

/// Captions of activity photos.
pub(crate) const PHOTO_CAPTIONS: [&str; 4] = ["活动现场", "大合照", "精彩瞬间", "活动海报"];

/// Short review texts, by rating band.
pub(crate) const REVIEWS_GOOD: [&str; 4] = [
    "组织得很好，五星好评！",
    "非常有意义的活动。",
    "很专业，值得推荐。",
    "氛围很好，下次还参加。",
];
pub(crate) const REVIEWS_BAD: [&str; 3] = [
    "签到太慢，排了很久队。",
    "和宣传的内容不太一样。",
    "时间安排有点乱。",
];

/// Activity titles per category (see [`super::generate::activities`]).
pub(crate) const CONTEST: [&str; 5] = [
    "{town}青年歌手大赛",
    "“青春{town}”摄影比赛",
    "{town}青年创新创业大赛",
    "青年篮球邀请赛",
    "{town}青年微视频大赛",
];
pub(crate) const SOCIAL: [&str; 4] = [
    "{town}青年单身交友联谊会",
    "周末桌游交友会",
    "青年户外徒步交友",
    "{town}青年烘焙交友活动",
];
pub(crate) const THEMED: [&str; 5] = [
    "学习十九大精神主题团日",
    "{town}青年读书分享会",
    "“青春心向党”主题活动",
    "重阳敬老主题活动",
    "{town}青年国学讲堂",
];
pub(crate) const TICKET_PERK: [&str; 3] = [
    "周末电影观影福利",
    "{town}音乐会门票派送",
    "青年话剧门票福利",
];
pub(crate) const TRAINING: [&str; 5] = [
    "青年之声平台操作培训",
    "新媒体运营技能培训",
    "青年职业技能提升班",
    "{town}青年创业培训营",
    "急救知识技能培训",
];
pub(crate) const VOLUNTEER: [&str; 5] = [
    "关爱留守儿童志愿服务",
    "{town}环保清洁志愿行动",
    "敬老院探访志愿服务",
    "交通文明劝导志愿服务",
    "社区义诊志愿服务",
];
pub(crate) const OTHER: [&str; 3] = ["{town}青年夜跑", "青年手工DIY", "{town}亲子趣味运动会"];
pub(crate) const ONLINE: [&str; 5] = [
    "网上重温入团誓词",
    "“我和我的{town}”线上征文",
    "线上知识竞答：十九大精神",
    "晒出你的志愿服务照片",
    "青年心理健康线上问答",
];

/// Sentences for activity descriptions.
pub(crate) const DESCRIPTIONS: [&str; 6] = [
    "活动由{town}团委主办，面向全镇青年开放。",
    "请报名成功的青年准时到场签到。",
    "活动结束后欢迎在平台上评价打分。",
    "名额有限，先到先得。",
    "活动现场将提供茶点和纪念品。",
    "欢迎上传活动照片，分享你的精彩瞬间。",
];

/// Venues for offline activities.
pub(crate) const PLACES: [&str; 5] = [
    "{town}文化广场",
    "{town}青少年活动中心",
    "{town}图书馆多功能厅",
    "{town}体育馆",
    "{town}党群服务中心",
];

/// Offline service requests at Youth Homes: (title, description).
pub(crate) const SERVICES: [(&str, &str); 8] = [
    (
        "申请使用活动场地",
        "我们是{town}的青年志愿服务队，想借用青年之家活动室开展培训。",
    ),
    ("预约心理咨询", "最近情绪低落，想预约一次面对面的心理咨询。"),
    ("预约法律咨询", "遇到劳动纠纷，想预约律师志愿者咨询。"),
    ("求职简历指导", "刚毕业找工作，希望有老师帮忙看看简历。"),
    (
        "申请志愿服务时长证明",
        "参加了青年之家组织的志愿服务，需要开具时长证明。",
    ),
    ("创业政策咨询", "想了解{town}青年创业的场地和资金扶持政策。"),
    (
        "预约亲子活动室",
        "周末想带孩子参加亲子阅读活动，请问怎么预约？",
    ),
    ("借用篮球场", "公司团支部想组织篮球友谊赛，申请借用场地。"),
];

/// Notes recorded as a request moves on.
pub(crate) const SERVICE_NOTES: [&str; 4] = [
    "已受理，正在核实情况",
    "已联系志愿者跟进",
    "已安排专人对接",
    "服务已完成，请评价",
];
pub(crate) const SERVICE_FEEDBACK: [&str; 4] = [
    "处理很及时，非常感谢！",
    "工作人员很耐心。",
    "等的时间有点长。",
    "问题解决了，点赞。",
];

/// Professional titles per expert field (law, psychology, entrepreneurship, public welfare,
/// marriage, career, other).
pub(crate) const EXPERT_TITLES: [&str; 7] = [
    "执业律师",
    "国家二级心理咨询师",
    "青年创业导师",
    "资深社工",
    "婚恋情感咨询师",
    "职业生涯规划师",
    "青年工作顾问",
];

/// Universities in Dongguan that trained the supervisors (督导专员).
pub(crate) const UNIVERSITIES: [&str; 5] = [
    "东莞理工学院",
    "广东医科大学",
    "广东科技学院",
    "东莞职业技术学院",
    "东莞理工学院城市学院",
];

/// Remarks on meeting attendance receipts.
pub(crate) const RECEIPT_REMARKS: [&str; 3] = [
    "书记外出学习，由分管副书记参加",
    "需要停车位",
    "会后参加培训",
];
