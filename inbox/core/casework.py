"""The words of casework, shared by the records, the screens and the report: the kinds of partner
agency, of referral, of activity, the age groups, the default consultation topics and the
survey's answers. Each is stored and counted by its id (stable: a year's report counts it) and
shown in Japanese or English, never as the id.

Stdlib only (the domain's ground floor). The topics are configured ([casework] topics); the
other lists are fixed, because the grant report's rows are.
"""

from __future__ import annotations

from inbox.core.labels import Label

# Where counselors refer a consulter (DOMAIN.md: 関係機関への連携).
AGENCY_KINDS: tuple[Label, ...] = (
    Label(id="police", ja="警察", en="Police"),
    Label(id="welfare_office", ja="福祉事務所", en="Welfare office"),
    Label(id="dv_center", ja="配偶者暴力相談支援センター", en="Spousal violence support center"),
    Label(id="shelter", ja="シェルター", en="Shelter"),
    Label(id="hospital", ja="病院", en="Hospital"),
    Label(id="hello_work", ja="ハローワーク", en="Hello Work (public employment office)"),
    Label(id="social_welfare_council", ja="社会福祉協議会", en="Social welfare council"),
    Label(id="npo", ja="NPO", en="NPO"),
    Label(id="school", ja="学校", en="School"),
    Label(id="child_guidance", ja="児童相談所", en="Child guidance center"),
    Label(id="legal", ja="法テラス・弁護士", en="Legal aid or a lawyer"),
    Label(id="other", ja="その他", en="Other"),
)

# The kind of help a referral was: the report counts each (連携件数 by kind).
REFERRAL_KINDS: tuple[Label, ...] = (
    Label(id="information", ja="情報提供", en="Information given"),
    Label(id="handover", ja="連携", en="Handed over"),
    Label(id="accompaniment", ja="同行支援", en="Accompanied"),
)

# The consulter's age group, when she tells it; never required. NULL in storage is 不明.
AGE_GROUPS: tuple[Label, ...] = (
    Label(id="teens", ja="10代以下", en="Teens or younger"),
    Label(id="20s", ja="20代", en="20s"),
    Label(id="30s", ja="30代", en="30s"),
    Label(id="40s", ja="40代", en="40s"),
    Label(id="50s", ja="50代", en="50s"),
    Label(id="60s", ja="60代", en="60s"),
    Label(id="70s_plus", ja="70代以上", en="70s or older"),
    Label(id="unknown", ja="不明", en="Unknown"),
)
UNKNOWN_AGE = "unknown"

# Work outside conversations that the grant report counts (outreach and accompaniment).
ACTIVITY_KINDS: tuple[Label, ...] = (
    Label(id="outreach", ja="訪問（アウトリーチ）", en="Outreach visit"),
    Label(id="accompaniment", ja="同行", en="Accompaniment"),
    Label(id="event", ja="相談会", en="Consultation event"),
    Label(id="drop_in", ja="居場所", en="Drop-in place"),
    Label(id="talk", ja="講座・講演", en="Talk or workshop"),
)

# A consultation's topics: the program's list replaces these ([casework] topics).
DEFAULT_TOPICS: tuple[Label, ...] = (
    Label(id="dv", ja="DV", en="Domestic violence"),
    Label(id="poverty", ja="生活困窮", en="Financial hardship"),
    Label(id="work", ja="仕事", en="Work"),
    Label(id="family", ja="家族・子育て", en="Family and child-rearing"),
    Label(id="health", ja="心身の健康", en="Physical and mental health"),
    Label(id="sexual_violence", ja="性暴力", en="Sexual violence"),
    Label(id="housing", ja="住まい", en="Housing"),
    Label(id="other", ja="その他", en="Other"),
)

# The survey's one question and its answers, 1 the best; the report's satisfaction is the share
# of the top two (SATISFIED) among those who answered.
SURVEY_ANSWERS: tuple[Label, ...] = (
    Label(id="1", ja="満足", en="Satisfied"),
    Label(id="2", ja="やや満足", en="Somewhat satisfied"),
    Label(id="3", ja="やや不満", en="Somewhat dissatisfied"),
    Label(id="4", ja="不満", en="Dissatisfied"),
)
SATISFIED = frozenset({1, 2})
SURVEY_QUESTION = Label(
    id="satisfaction",
    ja="今回の相談はいかがでしたか？",
    en="How was your consultation today?",
)

# Follow-up (近況確認) states: scheduled until its day, due while it is in the queue, then one of
# the outcomes, or cancelled before its day.
FOLLOW_UP_OUTCOMES: tuple[Label, ...] = (
    Label(id="done", ja="確認できた", en="Reached"),
    Label(id="skipped", ja="見送り", en="Skipped"),
    Label(id="unreachable", ja="連絡がつかない", en="Unreachable"),
)


def ids(labels: tuple[Label, ...]) -> frozenset[str]:
    return frozenset(label.id for label in labels)
