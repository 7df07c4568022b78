"""Recognising a worry about a child's safety in what someone types, before any policy search.

Why: a member of staff who writes "a pupil told me ..." is passing on a disclosure, and the
right answer to it is never a clause of the social media policy: it is the designated
safeguarding lead, today. So every question is read here first, and one that speaks of harm to
a child gets the safeguarding reply (`safeguarding_reply`) instead of a search.

How, in three steps a reader can check against any sentence:

1. The words are tidied: lowercase, apostrophes dropped ("pupil's" is "pupils"), chat
   shorthand spelled out ("yr9" is "year 9", "msg" is "message", "bf" is "boyfriend"), and a
   word that matters with one slip of the keyboard in it is read as that word ("sucide",
   "abuesd", "studnet"). Only the words below are corrected, and only by slips that do not
   turn one everyday word into another ("texting" never becomes "sexting").
2. Signs are looked for in groups: signs grave enough on their own (suicide, self-harm,
   nudes, grooming, rape, FGM ...), which count whoever they are about unless the message is
   plainly about teaching the topic and names no child; and signs of harm (hitting, abuse,
   neglect, fear of going home, a weapon, radicalisation, a secret, bullying ...), which
   count when the message also speaks of a child. Harm aimed at the writer ("a parent is
   harassing me", "a year 8 is bullying me") is left out first: staff targeted themselves
   are the report's business, and their question still goes to the policy.
3. The kind of concern decides what else the reply offers: a sexual image, sextortion or
   grooming is never collected, so no report (which asks for screenshots) is offered; online
   abuse of a pupil can be reported here as well; anything else goes to the lead in person.

It errs towards safety: a false alarm costs a kind redirect, a miss costs a child. Nothing here
keeps or logs what was typed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class ConcernKind(StrEnum):
    # A sexual image of a child, sextortion, grooming or exploitation: nothing may be collected.
    SEXUAL = "sexual"
    # Abuse, self-harm, suicide, neglect, FGM, radicalisation, a pupil in danger: the lead, now.
    HARM = "harm"
    # Bullying, threats or hate aimed at a pupil: the lead, and the report can be made here too.
    ONLINE_ABUSE = "online_abuse"


@dataclass(frozen=True)
class Concern:
    kind: ConcernKind
    sign: str  # which group of signs was found, for tests and readers; never the words typed


# -- 1. tidying the words ------------------------------------------------------------------

# Chat shorthand, spelled out before anything is looked for.
_SHORTHAND = {
    "yr": "year",
    "yrs": "years",
    "msg": "message",
    "msgs": "messages",
    "msgd": "messaged",
    "dm": "message",
    "dms": "messages",
    "dmd": "messaged",
    "dmed": "messaged",
    "bf": "boyfriend",
    "bfs": "boyfriends",
    "gf": "girlfriend",
    "insta": "instagram",
    "ig": "instagram",
    "snap": "snapchat",
    "wanna": "want to",
    "gonna": "going to",
    "abt": "about",
    "noods": "nudes",
    "nudez": "nudes",
    "nudies": "nudes",
    "unalive": "kill",
    "unalived": "killed",
    "kys": "kill yourself",
}
# "5 kms" is a distance; "kms" alone is "kill myself".
_KMS = "kill myself"
_YEAR_GROUP = re.compile(r"^(?:y|yr|year)(\d{1,2})s?$")

# The words a slip of the keyboard is forgiven in. Longer words forgive more: a letter left
# out, doubled or swapped; from eight letters, one letter wrong as well. Five-letter words
# forgive only two letters swapped ("chlid"), since one more or less makes another word.
_CORRECTABLE = [
    "abuse",
    "abused",
    "abusing",
    "abusive",
    "blackmail",
    "blackmailed",
    "bruised",
    "bruises",
    "bullied",
    "bullying",
    "child",
    "children",
    "daughter",
    "disclosed",
    "disclosure",
    "explicit",
    "exploitation",
    "exploited",
    "extremism",
    "extremist",
    "frightened",
    "groomed",
    "grooming",
    "harassed",
    "harassing",
    "harassment",
    "indecent",
    "molested",
    "mutilation",
    "naked",
    "neglect",
    "neglected",
    "nudes",
    "overdose",
    "overdosed",
    "pupil",
    "pupils",
    "radicalisation",
    "radicalised",
    "radicalized",
    "raped",
    "secret",
    "selfharm",
    "selfharming",
    "sexting",
    "sextorted",
    "sextortion",
    "sexual",
    "sexually",
    "stabbed",
    "stepdad",
    "stepfather",
    "student",
    "students",
    "suicidal",
    "suicide",
    "teenager",
    "terrified",
    "threatened",
    "threatening",
    "touched",
    "trafficked",
    "trafficking",
    "weapon",
    "weapons",
]
_KNOWN = frozenset(_CORRECTABLE)
_BY_LENGTH = {n: tuple(w for w in _CORRECTABLE if len(w) == n) for n in {len(w) for w in _KNOWN}}


def _one_slip(typed: str, word: str) -> bool:
    """Whether `typed` is `word` with one slip: two neighbouring letters swapped; or, in a word
    of six letters or more, one letter left out or added; or, from eight, one letter wrong."""
    if len(typed) == len(word):
        diff = [i for i in range(len(word)) if typed[i] != word[i]]
        if len(diff) == 2:
            i, j = diff
            return j == i + 1 and typed[i] == word[j] and typed[j] == word[i]
        return len(diff) == 1 and len(word) >= 8
    if len(word) < 6 or abs(len(typed) - len(word)) != 1:
        return False
    short, long_ = (typed, word) if len(typed) < len(word) else (word, typed)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


@functools.lru_cache(maxsize=4096)
def _corrected(typed: str) -> str:
    """The word from the list above that `typed` is one slip away from, or `typed` itself."""
    if typed in _KNOWN or len(typed) < 5:
        return typed
    for length in (len(typed), len(typed) + 1, len(typed) - 1):
        for word in _BY_LENGTH.get(length, ()):
            if _one_slip(typed, word):
                return word
    return typed


def tidy(text: str) -> str:
    """The words of `text` as the signs below expect them: " word word ... ", lowercase."""
    flat = unicodedata.normalize("NFKC", text).casefold()
    flat = re.sub(r"['\u2018\u2019`\u00b4]", "", flat)
    words: list[str] = []
    for typed in re.findall(r"[a-z0-9]+", flat):
        year = _YEAR_GROUP.match(typed)
        if year:
            words += ["year", year.group(1)]
        elif typed == "kms":
            words += ["kms"] if words and words[-1].isdigit() else _KMS.split()
        elif typed in _SHORTHAND:
            words += _SHORTHAND[typed].split()
        else:
            words.append(_corrected(typed))
    return f" {' '.join(words)} "


# -- 2. the signs --------------------------------------------------------------------------


def _signs(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen"
_CHILD_WORDS = (
    r"pupils?|students?|child|children|childs|kids?|kiddos?|girls?|boys?|lads?|sons?|"
    r"daughters?|teens?|teenagers?|young (?:person|people)|minors?|learners?|tutees?|"
    r"sixth formers?|year (?:\d{1,2}|" + _NUMBER_WORDS + r")s?"
)
# Someone the message says is a child, or a child's home: "her stepdad" is a child's worry too.
_CHILD = _signs(
    rf"\b(?:{_CHILD_WORDS})\b",
    r"\b(?:reception|nursery|underage|under age|ks[1-5]|key stage \d)\b",
    r"\b(?:my|our) (?:form|class|tutor group|tutees)\b|\bform group\b|\btutor group\b",
    r"\bone of (?:my|our|the) (?:year|form|class|tutor|lot|set)",
    r"\b\d{1,2} ?(?:years?|yrs?) old\b|\b\d{1,2} ?yo\b|\b(?:aged?|is|only) 1[0-7]\b",
    r"\bunder ?(?:18|16|13)s?\b",
    r"\bstep ?(?:dad|father|mum|mom|mother|brother|sister)s?\b",
    r"\b(?:mums|moms|mummys|mothers) (?:boyfriend|partner)\b",
    r"\b(?:her|his|their) (?:dad|father|mum|mom|mother|parents?|uncle|aunt|carer|cousin|"
    r"grandad|grandpa|grandfather|brother)\b",
    r"\bat home\b|\bin care\b|\bfoster\b",
)

# Harm aimed at the writer, or staff, or the school: taken out before the signs of harm.
_AT_STAFF = re.compile(
    r"\b(?:bull\w*|harass\w*|threat\w*|troll\w*|abus\w*|stalk\w*|picking on|picked on|rude|"
    r"nasty|horrible|mean|insult\w*|swear\w*|swore|filming|filmed|posting|posted|lies|rumou?rs)"
    r"(?: (?:comments?|messages?|posts?|texts?|things|stuff|names|videos?|emails?|language))?"
    r"(?: to \w+)?(?: (?:to|towards|at|about|against|of|on|with|for))?(?: the| a| my| our)? "
    r"(?:me|us|myself|staff|teachers?|colleagues?|school|head|headteacher)\b"
)

_IMAGES = r"(?:pics?|pix|piccies|photos?|pictures?|images?|selfies?|vids?|videos?|snaps)"

# Grave enough on their own, about whomever.
_SUICIDE = _signs(
    r"\bsuicid\w*",
    r"\bkill(?:s|ing|ed)? (?:him|her|them|my|your)sel(?:f|ves)\b",
    r"\bend(?:ing)? (?:it all|(?:his|her|their|my) (?:own )?li(?:fe|ves))\b",
    r"\b(?:want|wants|wanted|wanting|going|plans?|planning|thinking|thought|talks?|talking|"
    r"talked|tried|trying|threaten\w*) (?:about |of )?(?:to )?(?:end(?:ing)? (?:it|things)|"
    r"die|dying|not (?:be )?(?:here|alive|living))\b",
    r"\bbetter off dead\b|\bno reason to live\b",
    r"\b(?:if|when) (?:i|he|she|they) (?:died|was dead|were dead|was gone|were gone)\b",
    r"\b(?:doesnt|dont|didnt|does not|do not|not) want to (?:live|be alive|be here|wake up|"
    r"exist)\b",
    r"\boverdos\w*",
    r"\btook (?:a lot of|loads of|lots of|all (?:her|his|the|their)) (?:pills|tablets)\b",
    r"\bhang(?:ing|ed)? (?:him|her|them)sel",
)
_SELF_HARM = _signs(
    r"\bself ?harm\w*",
    r"\b(?:cut|cuts|cutting|burn|burns|burning|hurt|hurts|hurting|harm|harming|scratch\w*) "
    r"(?:him|her|them|my|your)sel(?:f|ves)\b",
    r"\bcuts on (?:her|his|their) (?:arms?|wrists?|legs?|thighs?)\b",
)
_SEXUAL_IMAGES = _signs(
    r"\bnudes\b|\bsemi nudes?\b",
    rf"\b(?:naked|nude|topless|indecent|explicit|sexual|sexy|rude|dirty) {_IMAGES}",
    r"\bsext\w*|\bupskirt\w*|\brevenge porn\b|\bcsam\b|\bcse\b",
    r"\bgroom(?:ed|ing|er|ers)\b",
    r"\bsexual(?:ly)? exploit\w*|\bchild sexual exploitation\b",
)
_SEXUAL_ABUSE = _signs(
    r"\brap(?:e|ed|ing)\b|\bmolest\w*|\bcsa\b",
    r"\bsexual(?:ly)? (?:abus\w*|assault\w*)|\bchild (?:sexual|sex) abuse\b",
)
_OTHER_GRAVE = _signs(
    r"\bfgm\b|\bfemale genital\b|\bgenital mutilation\b|\bbreast ironing\b",
    r"\bforced (?:to )?marr\w*|\bforced marriage\b|\bhonou?r (?:based )?(?:abuse|violence)\b",
    r"\btraffick\w*|\bcounty lines\b|\bmodern slavery\b|\bchild criminal exploitation\b",
)

# Count when the message also speaks of a child.
_HARM_TO_A_CHILD = _signs(
    r"\babus\w*",
    r"\b(?:hit|hits|hitting|beat|beats|beating|slap\w*|punch\w*|kick\w*|hurt|hurts|hurting|"
    r"strangl\w*|chok\w*) (?:her|him|them)\b",
    r"\bbeaten\b|\bbeat (?:her|him|them) up\b",
    r"\b(?:being|been|was|were|got|gets|getting) (?:hurt|hit|beaten|attacked|assaulted|"
    r"strangled|choked|burnt|burned|locked in|locked up)\b",
    r"\bassault\w*|\bbruis\w*|\bmarks on (?:her|his|their)\b|\bburns on\b|\bviolen\w*",
    r"\bneglect\w*|\bnot (?:being )?fed\b|\bno food\b|\b(?:always|really|very|so) hungry\b",
    r"\bhome alone\b|\bleft alone\b|\b(?:nobody|no one) (?:at home|looks after)\b",
    r"\b(?:scared|afraid|frightened|terrified) (?:of|to|about) (?:go(?:ing)? (?:home|back)|"
    r"her|his|their|him|them|mum|mom|dad|step\w*|uncle|home|someone|a man)\b",
    r"\b(?:scared|afraid|frightened|terrified) at home\b",
    r"\b(?:doesnt|dont|didnt|does not|do not|not|never) feels? safe\b|\bfeels? unsafe\b",
    r"\b(?:isnt|is not|not) safe (?:at home|there)\b|\bunsafe at home\b",
    r"\bin (?:immediate )?danger\b|\bat risk (?:of|from)\b",
    r"\b(?:run|runs|ran|running) away\b|\b(?:gone|went|is|been|going) missing\b",
    r"\btouch(?:es|ed|ing)? (?:her|him|them)\b|\binappropriately touch\w*|"
    r"\btouch\w* inappropriately\b|\bprivate parts\b",
    r"\bporn\w*|\bsex\b(?! education)|\bpregnant\b",
    r"\b(?:knife|knives|blade|weapons?|guns?|stab\w*|bomb)\b",
    r"\b(?:carry|carrying|carried|sell\w*|deal\w*|deliver\w*|hold\w*|hid\w*) drugs\b",
    r"\b(?:in|join\w*|part of|recruited|for) (?:a |the )?gang\b|\bdrug (?:deal\w*|run\w*|debt)\b",
    r"\bradicali[sz]\w*|\bextremis\w*|\bterroris\w*|\bjihad\w*|\bfar (?:right|left)\b|"
    r"\bneo ?nazi\w*|\bnazi\w*|\bwhite (?:power|supremac\w*)\b|\bisis\b",
    r"\bkeep (?:it|this|a|the)(?: \w+)? secret\b|\b(?:a|our|big) secret\b|"
    r"\bpromise (?:not to|to not|to keep|i wont)\b|\bnot to tell\b|"
    r"\bdont tell (?:anyone|anybody|my|her|his|mum|dad)\b",
    r"\bsomething (?:really |very |quite |a bit |so )?(?:worrying|concerning|disturbing|"
    r"alarming|upsetting|scary|dark|troubling)\b",
    rf"\b(?:worried|concerned|worries|concerns?) (?:about|for) (?:a |an |one of (?:my|our|the) "
    rf"|this |that |my |our |the )?(?:\w+ )?(?:{_CHILD_WORDS})\b",
    r"\b(?:worried|concerned) (?:about|for) (?:her|him|them)\b",
    r"\b(?:safeguarding|welfare|wellbeing) (?:concern|issue|worry|worries|concerns|issues)\b",
    r"\beating disorder\b|\banorexi\w*|\bbulimi\w*|\b(?:stopped|not) eating\b|\bdepress\w*",
    r"\b(?:cant|cannot|can not|not) cop(?:e|ing)\b|\bpanic attacks?\b",
    r"\b(?:disclosed|discloses|disclosing) (?:to|that|something|abuse|being|she|he|they|it|"
    r"what|her|his)\b|\b(?:made|make|making|makes) a disclosure\b|\ba disclosure (?:from|by)\b",
    r"\b(?:be|being|get|getting|been) cut\b.*\b(?:abroad|summer|holiday|ceremony|procedure|"
    r"back home)\b|\b(?:abroad|summer|holiday|ceremony|back home)\b.*\b(?:be|being|get|"
    r"getting) cut\b",
)
# An adult or a stranger in a child's life online: the start of grooming.
_CONTACT = _signs(
    r"\b(?:older|grown|adult|old) (?:men|man|guys?|blokes?|boys?|lads?|males?|women|woman|"
    r"person|people|stranger)\b",
    r"\ban adult (?:online|on|she|he|they|who|man|woman)\b|\bstrangers?\b",
    r"\bsomeone (?:she|he|they) (?:met|meets|talks? to|has been talking to|doesnt know)\b",
    r"\bmet (?:online|(?:on|through|via) (?:snapchat|instagram|tik ?tok|roblox|discord|fortnite|"
    r"whatsapp|facebook|fb|a game|an app|xbox|playstation|omegle|wizz|yubo|kik|telegram|"
    r"the internet|a dating))\b",
    r"\ba (?:man|guy|bloke) (?:online|at|from|in|she|he|who|keeps|has|is)\b",
    r"\b(?:boyfriend|girlfriend|man|guy|bloke) (?:who is |whos |is )(?:1[89]|[2-9]\d)\b",
    r"\b(?:1[89]|[2-9]\d) ?(?:years?|yrs?) old (?:man|guy|bloke|boyfriend|woman)\b",
    r"\bblackmail\w*|\bextort\w*",
    rf"\b(?:sexual|explicit|inappropriate|rude|dirty) (?:{_IMAGES}|messages?|texts?|content|"
    r"chats?)\b",
)
# Abuse of a child that happens online is reported like bullying, not taken as harm at home.
_ONLINE_ABUSE = re.compile(
    r"\b(?:online|cyber|verbal|racist|homophobic|transphobic) abuse\b|\babuse online\b"
)
_BULLYING = _signs(
    _ONLINE_ABUSE.pattern,
    r"(?<!\banti )\bbull(?:y|ies|ied|ying)\b|\bcyberbull\w*",
    r"\bharass\w*|\bthreat\w*|\btroll\w*|\bpick(?:ing|ed) on\b|\bganged up on\b",
    r"\b(?:nasty|horrible|mean|abusive|cruel|hateful|racist|homophobic|transphobic|sexist|"
    r"threatening|vile) (?:messages?|comments?|posts?|texts?|names|things|stuff|videos?)\b",
    r"\b(?:racist|homophobic|transphobic) (?:abuse|slurs?)\b|\bhate (?:speech|crime)\b",
    r"\bkill yourself\b|\btelling (?:her|him|them) to (?:die|kill)\b",
    r"\brumou?rs (?:about|of)\b",
)

# Teaching the topic, not worrying about a child: "can we share the leaflet about grooming?"
_TEACHING = re.compile(
    r"\b(?:lessons?|assembl(?:y|ies)|posters?|leaflets?|training|awareness|campaigns?|"
    r"resources?|workshops?|pshe|rse|curriculum|e ?safety|online safety|internet safety|"
    r"newsletters?|articles?|guidance|webinars?)\b"
)
_SHARING = re.compile(r"\b(?:share|post|use|show|put|upload|send|teach|deliver|run|print)\b")
_TOLD = re.compile(
    r"\b(?:told|tells|tell me|said|says|saying|messaged|confided|disclosed|showed|found out)\b"
)


def _teaching_only(words: str) -> bool:
    return bool(_TEACHING.search(words) and _SHARING.search(words) and not _TOLD.search(words))


# -- 3. what kind of concern -----------------------------------------------------------------


def safeguarding_concern(text: str) -> Concern | None:
    """The worry about a child `text` speaks of, or None if it is a question for the policy."""
    words = tidy(text)
    child = _CHILD.search(words) is not None
    grave_alone = child or not _teaching_only(words)
    if grave_alone and _SEXUAL_IMAGES.search(words):
        return Concern(ConcernKind.SEXUAL, "sexual image, sextortion or grooming")
    if grave_alone and _SUICIDE.search(words):
        return Concern(ConcernKind.HARM, "suicide")
    if grave_alone and _SELF_HARM.search(words):
        return Concern(ConcernKind.HARM, "self-harm")
    if grave_alone and (_SEXUAL_ABUSE.search(words) or _OTHER_GRAVE.search(words)):
        return Concern(ConcernKind.HARM, "abuse")
    if not child:
        return None
    about_the_child = _AT_STAFF.sub(" ", words)
    if _CONTACT.search(about_the_child):
        return Concern(ConcernKind.SEXUAL, "an adult or stranger in contact with a child")
    if _HARM_TO_A_CHILD.search(_ONLINE_ABUSE.sub(" ", about_the_child)):
        return Concern(ConcernKind.HARM, "harm to a child")
    if _BULLYING.search(about_the_child):
        return Concern(ConcernKind.ONLINE_ABUSE, "bullying or threats of a child")
    return None
