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
2. Signs are looked for in three strengths, each group named after the concern it stands for
   (Keeping Children Safe in Education's list: physical, sexual and emotional abuse and
   domestic abuse, neglect, self-harm and suicide, sexual images and grooming, a child missing
   or exploited, FGM, forced marriage, radicalisation, an adult in school behaving wrongly):
   - grave enough on their own (suicide, self-harm, nudes, grooming, rape, FGM ...), whoever
     they are about, unless the message is plainly about teaching the topic to no child in
     particular ("the year 5 video on grooming");
   - signs of harm (a hit, a bruise, being locked in, no food at home, someone met online
     asking for pictures, a colleague messaging a pupil at night ...), which count when the
     message also speaks of a child: a pupil, "yr 9", "kid in my form", "her stepdad", "her
     foster carer", a care home, or a message opening "she told me";
   - softer signs ("scared", "the police came round", "hungry", "hides"), which count only
     when someone is passing on what a child said or showed, what they saw, something that
     keeps happening, or a worry of their own however hedged ("prob nothing but").
   Each sign is a family of words, not a sentence: every tense of a verb of hurting ("pinches",
   "grabbed", "whips"), every adult in a child's home or care, the acts and tools of self-harm,
   what exploiters trade and where a missing child goes, because a fresh set of disclosures
   uses words no earlier set did.
   Harm aimed at the writer ("a parent is harassing me", "sending me abusive messages about
   her son") is left out first: staff targeted themselves are the report's business, and
   their question still goes to the policy. So is teaching the topic ("can we post the
   assembly slides on knife crime?").
3. The kind of concern decides what else the reply offers: a sexual image, sextortion or
   grooming is never collected, so no report (which asks for screenshots) is offered; online
   abuse of a pupil can be reported here as well; a worry about an adult who works with
   children goes to the headteacher; anything else goes to the lead in person.

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
    # Someone who works with children behaving wrongly towards one: the headteacher, now.
    ADULT = "adult"


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
    "u": "you",
    "ur": "your",
    "v": "very",
    "ppl": "people",
    "sum1": "someone",
    "some1": "someone",
    "smth": "something",
    "sth": "something",
    "bc": "because",
    "cos": "because",
    "coz": "because",
    "cuz": "because",
    "bro": "brother",
    "sis": "sister",
    "nite": "night",
    "2nite": "tonight",
    "tmrw": "tomorrow",
    "prob": "probably",
    "probs": "probably",
    "fella": "man",
    "bloke": "man",
    "blokes": "men",
    "hw": "homework",
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
# The people in a child's home: "her stepdad", "his mum", "mummys boyfriend".
_FAMILY = (
    r"dad|dads|daddy|father|mum|mums|mummy|mom|moms|mother|parents?|uncles?|aunts?|aunty|"
    r"aunties|auntie|carers?|cousins?|grandad|grandpa|grandfather|grandparents?|nan|nana|nanny|"
    r"nanna|gran|granny|grandma|grandmother|brothers?|sisters?|siblings?|step ?\w+|"
    r"foster (?:carers?|dad|mum|mom|parents?|family|brother|sister|home)|"
    r"(?:mums|moms|mummys|mothers|dads|nans|grans) (?:new )?(?:boyfriend|girlfriend|partner|man|"
    r"husband|wife|ex|mates?|friends?)|"
    r"(?:brothers|sisters|cousins|uncles|dads) (?:mates?|friends?|boyfriend|girlfriend)|"
    r"lodger|babysitter|childminder|key ?workers?|house ?parents?|residential (?:staff|workers?)"
)
_HIM = r"(?:her|him|them)\b"
# Who a thing is done to, named or not: "her", "a year 9 boy", "one of my girls".
_A_CHILD = (
    rf"(?:her|him|them|(?:a|an|the|this|that|my|our|one of (?:my|our|the)) (?:\w+ ){{0,2}}?"
    rf"(?:{_CHILD_WORDS}))\b"
)
# Someone the message says is a child, or a child's home: "her stepdad" is a child's worry too;
# and a message that opens by passing on what "he" or "she" said is passing on a child's words.
_CHILD = _signs(
    rf"\b(?:{_CHILD_WORDS})\b",
    r"\b(?:reception|nursery|underage|under age|ks[1-5]|key stage \d)\b",
    r"\b(?:my|our) (?:form|class|tutor group|tutees)\b|\bform group\b|\btutor group\b",
    r"\bone of (?:my|our|the) (?:year|form|class|tutor|lot|set)",
    r"\b\d{1,2} ?(?:years?|yrs?) old\b|\b\d{1,2} ?yo\b|\b(?:aged?|is|only) 1[0-7]\b",
    r"\bunder ?(?:18|16|13)s?\b",
    r"\bstep ?(?:dad|father|mum|mom|mother|brother|sister)s?\b|\bdaddy\b|\bmummy\b",
    r"\b(?:mums|moms|mummys|mothers) (?:boyfriend|partner)\b",
    rf"\b(?:her|his|their) (?:{_FAMILY}|family)\b",
    # a child in care, or known to the lead already
    r"\bat home\b|\bin care\b|\bfoster\w*|\b(?:care|childrens) homes?\b|\blooked after\b|"
    r"\b(?:cla|lac|cin|cp plan|child protection|social worker)\b",
    r"^ (?:(?:and|so|but|also|today|just now) )?(?:he|she) (?:said|says|told me|tells me|"
    r"mentioned|showed me|disclosed|confided|admitted)\b",
)

# Passing on what a child said, showed or let slip, what someone saw or heard, something that
# keeps happening, or a worry of one's own however hedged ("prob nothing but", "heads up"): what
# turns a softer sign ("scared", "the police came round") into a concern. Whole families of
# verbs, since staff report in every tense.
_FRAME = re.compile(
    r"\b(?:told|tells?|telling|said|says|saying|mention(?:s|ed)|lets? slip|admit(?:s|ted)|"
    r"hint(?:s|ed)|whisper(?:s|ed)|implied|blurted|let on|"
    r"confid(?:es|ed|ing)|disclos(?:es|ed|ing)|open(?:s|ed)? up|show(?:s|ed|n)|wr(?:ote|ites|"
    r"itten)|"
    r"worr(?:ied|ies|ying)|concern(?:ed|s|ing)|notic(?:ed|es|ing)|suspect(?:s|ed)?|"
    r"think (?:she|he|they)|heard|found out|finds out|came (?:in|to me|up to me)|comes in|"
    r"turn(?:s|ed)? up|crying|cried|in tears|in bits|upset|shaking|saw|seen|caught|spotted|"
    r"clocked|keeps|kept|again|always|every (?:day|night|week|weekend|morning)|"
    r"(?:has|have|s) been|emailed|rang|phoned|reported|"
    r"(?:prob(?:ably)?|might be|could be|maybe|its (?:prob(?:ably)? )?) nothing|not sure (?:if|"
    r"whether)|"
    r"heads up|flag(?:ging)?|gut feeling|(?:a )?bit (?:odd|weird|strange|off)|uneasy|"
    r"(?:posted|posts|wrote|put) (?:\w+ )?(?:on|in) (?:her|his|their))\b"
)

# Harm aimed at the writer, or staff, or the school: taken out before the signs of harm.
_AT_STAFF_WORDS = (
    r"bull\w*|harass\w*|threat\w*|troll\w*|abus\w*|stalk\w*|picking on|picked on|rude|"
    r"nasty|horrible|mean|insult\w*|swear\w*|swore|filming|filmed|posting|posted|lies|rumou?rs"
)
_AT_STAFF = _signs(
    # "abusive messages to me", "nasty comments about our school", "threatening staff"
    rf"\b(?:{_AT_STAFF_WORDS})"
    r"(?: (?:comments?|messages?|posts?|texts?|things|stuff|names|videos?|emails?|language|"
    r"whatsapps?|dms|voicemails?|calls?|reviews?))?"
    r"(?: to \w+)?(?: (?:to|towards|at|about|against|of|on|with|for))?(?: the| a| my| our)? "
    r"(?:me|us|myself|staff|teachers?|colleagues?|school|head|headteacher)\b",
    # "she says im a bully to her son": the writer is who is named
    rf"\b(?:im|i am|i was|were|we are|we were) (?:a |an |being |the )?(?:{_AT_STAFF_WORDS}|"
    r"paedo\w*|pedo\w*|pervert\w*|groomers?|nonces?|predators?|disgrace|liar|useless)\b",
    # "a threatening voicemail about his daughter's exclusion": how adults reach staff
    r"\b(?:threat\w*|abusive|nasty|rude|angry|horrible|aggressive) (?:voicemails?|phone ?calls?|"
    r"letters?|reviews?|complaints?)\b",
    # "sending me abusive whatsapps about her son": the writer is who receives it
    r"\b(?:send|sends|sending|sent|give|gives|giving|gave|leave|leaves|leaving|left|call|calls|"
    r"calling|called|shout\w*|scream\w*) (?:me|us|staff|teachers) (?:\w+ ){0,2}?"
    rf"(?:{_AT_STAFF_WORDS})\w*",
)

_IMAGES = (
    r"(?:pics?|pix|piccies|photos?|pictures?|images?|selfies?|vids?|videos?|snaps|nudes?|"
    r"deepfakes?|(?:body|bikini|mirror|underwear) (?:shots?|pics?))"
)

# Grave enough on their own, about whomever.
_SUICIDE = _signs(
    r"\bsuicid\w*",
    r"\bkill(?:s|ing|ed)? (?:him|her|them|my|your)sel(?:f|ves)\b",
    r"\bend(?:ing)? (?:it all|(?:his|her|their|my) (?:own )?li(?:fe|ves))\b",
    r"\b(?:want|wants|wanted|wanting|going|plans?|planning|thinking|thought|talks?|talking|"
    r"talked|tried|trying|threaten\w*) (?:about |of )?(?:to )?(?:end(?:ing)? (?:it|things)|"
    r"die|dying|not (?:be )?(?:here|alive|living))\b",
    r"\bbetter off (?:dead|gone|without (?:him|her|them|me))\b|"
    r"\b(?:no(?:thing| reason)) to live for\b",
    r"\b(?:ways|how|methods) to (?:die|kill (?:him|her|them|my)sel|end it|end (?:his|her|their) "
    r"li(?:fe|ves))",
    r"\bno reason to live\b",
    # wishing to be gone: "nobody would notice if she disappeared"
    r"\b(?:if|when) (?:i|he|she|they) (?:died|was dead|were dead|was gone|were gone|"
    r"disappeared|vanished|(?:wasnt|werent|was not|were not|wasnt ever) (?:here|around|alive|born)|"
    r"didnt exist|did not exist|never existed)\b",
    r"\b(?:wont|will not|not going to|wouldnt) be (?:around|here) (?:much )?(?:longer|for long|"
    r"anymore|any more|tomorrow|next week)\b",
    r"\b(?:doesnt|dont|didnt|does not|do not|not) want to (?:live|be alive|be here|wake up|"
    r"exist)\b",
    r"\b(?:go to sleep|sleep) (?:forever|and (?:never|not) wake up)\b",
    r"\boverdos\w*|\bligatures?\b|\bnoose\b",
    r"\b(?:painless|easiest|easy|quick|quickest|best|fastest|peaceful) (?:ways?|methods?) (?:to )?"
    r"(?:go|die|do it|end it|end things|kill|not wake up)\b",
    r"\b(?:take|takes|taking|took|taken|swallow\w*|down|neck) (?:all|a load of|loads of|"
    r"a whole|the whole|a packet of|a box of|a bottle of|a handful of|handfuls of|lots of|"
    r"every one of|too many|\d{2,}) (?:of )?(?:\w+ ){0,2}(?:pills|tablets|paracetamol|painkillers|"
    r"ibuprofen|meds|medication)\b",
    r"\b(?:took|taken|taking|swallowed) (?:\w+ ){0,3}(?:pills|tablets|paracetamol|painkillers|"
    r"ibuprofen|sleeping pills)\b",
    r"\b(?:no|see no|see the|whats the) point (?:in|of) (?:living|life|being alive|going on|"
    r"carrying on)\b",
    r"\bhang(?:ing|ed)? (?:him|her|them)sel",
    r"\bgoodbye (?:message|note|letter|post|video)s? (?:on|in) (?:his|her|their)\b|"
    r"\b(?:his|her|their) goodbye (?:message|note|letter)",
)
_SELF_HARM = _signs(
    r"\bself ?harm\w*",
    r"\b(?:cut|cuts|cutting|burn|burns|burning|hurt|hurts|hurting|harm|harming|scratch\w*|"
    r"starv\w*) (?:him|her|them|my|your)sel(?:f|ves)\b",
    r"\b(?:make|makes|made|making) (?:him|her|them|my)sel(?:f|ves) (?:sick|throw up|vomit)\b",
    r"\b(?:cuts|scars|scratches|burns|marks) on (?:her|his|their) (?:arms?|wrists?|legs?|"
    r"thighs?|stomach|tummy|body)\b",
)
# Self-harm and suicide in a child's own words or acts, short of the words above: counted when
# the message speaks of a child. The tools and places of it, and the wish behind it.
_SELF_HARM_SIGNS = _signs(
    r"\b(?:cut|cuts|cutting|scratch\w*|carv\w*|burn\w*|pick\w*|bit|bites|biting|bang\w*|"
    r"punch\w*|stab\w*) (?:at )?(?:her|his|their) (?:own )?(?:arms?|wrists?|legs?|thighs?|skin|"
    r"stomach|hands?|head)\b",
    r"\b(?:cut|scratch|carv|burn|hurt|harm|scrap)\w* (?:\w+ ){0,4}with (?:a|her|his|their) "
    r"(?:compass|blade|razor|sharpener|pencil sharpener|lighter|scissors|piece of glass|knife)\b",
    r"\b(?:been|is|was|started|starting|keeps|still|back to|stopped) cutting\b(?! (?:out|up|and|"
    r"back|down|paper|shapes|(?:her|his|their) (?:hair|food)))|\bcutting again\b",
    r"\b(?:thought|thinks|think|thinking|talk\w*|dream\w*) (?:about|of) (?:jumping|dying|death|"
    r"ending|killing|hanging|overdosing|not (?:being here|waking up|being alive)|disappearing)\b",
    r"\b(?:jump|jumps|jumping|jumped) (?:off|from|in front of)\b|"
    r"\b(?:stood|standing|stands|went|goes|sat|sitting) (?:on|to|at) (?:the |a )?(?:bridge|"
    r"edge|roof|"
    r"railway|tracks|train tracks|cliff|motorway bridge|multi ?storey)\b",
    r"\bhow (?:many|much) (?:\w+ ){0,3}(?:paracetamol|pills|tablets|painkillers|ibuprofen|insulin)"
    r" (?:is|are|would|to|it takes|does it take|will)\b|\btoo many (?:pills|tablets|paracetamol)\b",
    r"\b(?:search\w*|googl\w*|look\w* up|research\w*) (?:\w+ ){0,2}(?:how to|ways to) (?:die|"
    r"hang|overdose|end it|kill)\b",
    r"\brazors?\b|\b(?:sharpener|razor|craft|stanley) blades?\b",
    r"\b(?:does|do|did) it to (?:feel|cope|numb|release|forget|punish)\w*\b|"
    r"\b(?:cutting|hurting (?:her|him|them)sel\w*|it) helps (?:her |him |them )?(?:to )?"
    r"(?:cope|numb|forget|feel something|release)\b",
    r"\b(?:posted|wrote|sent|left|put up|put) (?:a |her |his |their )?goodbye\b(?! (?:to|for) "
    r"(?:the|year|our|my|mr|mrs|miss|ms|all|everyone|her class|his class|their class|leavers))",
    r"\b(?:happier|better off|better|easier) (?:if|without) (?:i|she|he|they|me|her|him|them)\b",
    # eating: the harm a child does by not eating, or by being sick on purpose
    r"\b(?:throw\w*|threw) up (?:in|after|every)\b|\b(?:being|making (?:her|him|them)sel\w*) sick "
    r"after\b|\b(?:stopped|isnt|wont|refus\w*|skip\w*|hasnt been|hardly) (?:eating|eat|"
    r"having (?:lunch|breakfast|dinner|food|meals)|(?:her |his |their )?(?:lunch|meals|food))\b|"
    r"\b(?:losing|lost) (?:loads of |a lot of |so much )?weight\b",
)
_SEXUAL_IMAGES = _signs(
    r"\bnudes\b|\bsemi nudes?\b|\b(?:a|any|her|his|their) nude\b",
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
    r"\bdomestic (?:abuse|violence)\b",
)

# The signs below count when the message also speaks of a child.

# Hurting a child, or someone in front of them: "his dad hits his mum" is harm to the boy.
# Every verb of hurting a body, in every tense, since a child tells it in their own words.
_HURT = (
    r"hit|hits|hitting|beat|beats|beating|slap\w*|smack\w*|whack\w*|thump\w*|punch\w*|kick\w*|"
    r"hurt|hurts|hurting|strangl\w*|chok\w*|shov\w*|batter\w*|belt(?:s|ed|ing)?|burnt|burned|"
    r"burns|burning|scald\w*|bit|bites|biting|pinch\w*|whip\w*|grab(?:s|bed|bing)?|"
    r"drag(?:s|ged|ging)?|shak(?:es|ing|en)|shook|twist\w*|yank\w*|throttl\w*|squeez\w*|"
    r"stamp(?:s|ed|ing)? on|headbutt\w*|spit(?:s|ting)? (?:on|at)|spat (?:on|at)|"
    r"(?:hold|holds|held|holding|pin(?:s|ned|ning)?) (?:\w+ )?down|smash\w*|"
    r"lash\w*|cane[sd]?|caning|paddl\w*|attack\w*|"
    r"throws? \w+ at|threw \w+ at|throw(?:s|ing)? (?:\w+ )?(?:at|against|across|down)|"
    r"threw (?:\w+ )?(?:against|across|down)|push(?:es|ed|ing)"
)
_PHYSICAL = _signs(
    rf"\b(?:{_HURT}) (?:{_HIM}|(?:his|her|their) (?:{_FAMILY})\b)(?! up on)",
    r"\bbeaten\b|\bbeat (?:her|him|them) up\b",
    r"\b(?:being|been|was|were|got|gets|getting) (?:hurt|hit|beaten|attacked|assaulted|"
    r"strangled|choked|burnt|burned|locked in|locked up|locked out|smacked|slapped|punched)\b",
    r"\bassault\w*|\bbruis\w*|\bblack eyes?\b|\bbroken (?:arm|wrist|nose|ribs?|finger|leg)\b|"
    r"\b(?:marks|welts?|lumps?|bumps?|swelling|scratches|burns|cuts|bite marks|grazes|wounds?) "
    r"(?:on|across|round|around|all over) (?:her|his|their)\b|\bburns on\b|\bviolen\w*|"
    r"\bhand ?prints?\b|\bby the (?:hair|throat|neck|ear)\b|"
    r"\b(?:pulled|pulls|pulling) (?:her|his|their) hair\b|"
    r"\b(?:push\w*|threw|thrown|kick\w*|shov\w*) (?:\w+ )?(?:down|off) the (?:stairs|steps)\b|"
    r"\bfinger ?(?:marks|prints) on\b|\bcigarette burns?\b|\b(?:cuts?|scratch\w*|swelling|lumps?|"
    r"bite marks) on (?:her|his|their) (?:face|neck|arms?|legs?|back|body|head)\b",
    r"\b(?:hands?|arms?) (?:round|around) (?:her|his|their|my) (?:neck|throat)\b",
    r"\b(?:burn|mark|bruise|cut|scratch|graze|bump|lump|welt|wound|bite|bald patch|gash|"
    r"swelling)(?:es|s)?\b(?: \w+){0,4} (?:on|across) (?:her|his|their) (?:face|neck|arms?|legs?|"
    r"back|body|head|hands?|chest|ears?|cheeks?|bottom|bum|thighs?|wrists?|feet|ribs|eye)\b|"
    r"\bshaped like (?:a|an) (?:iron|hand|belt|buckle|cigarette|fingers?|shoe|plug|lighter)\b",
    r"\b(?:being|been|was|were|got|gets|getting) (?:jumped|kicked|stamped on|battered|mugged|"
    r"robbed|knifed|stabbed|glassed|shoved|dragged|grabbed|bitten|whipped|pinched|tied up|"
    r"chased|cornered|set upon|happy slapped|beaten up|pushed)\b"
    r"(?! (?:out|off|into|to|for|forward|back|ahead|through|in the (?:queue|rankings)))",
    rf"\b(?:makes?|made|making|forc\w*) {_HIM} (?:to )?(?:{_HURT})\b",
    r"\b(?:limp(?:s|ing)?|wince[sd]?|wincing)\b|\b(?:wont|will not|refuses? to|doesnt want to|"
    r"didnt want to|wouldnt) (?:get )?chang(?:e|ed|ing) for (?:pe|swimming|games)\b",
    rf"\b(?:will|would|wil|gonna|going to|threaten\w* to|said (?:he|she)d|hed|shed) "
    rf"(?:kill|hurt|batter|beat|smash|hit|murder) {_HIM}",
)
# Being shut in, shut out, belittled or terrorised at home.
_EMOTIONAL = _signs(
    rf"\block(?:s|ed|ing)? {_HIM} (?:in|out|up|away)\b|\bshuts? {_HIM} in\b",
    r"\b(?:wish|wishes|wished) (?:he|she|they|i|you) (?:was|were|had) never (?:been )?born\b",
    rf"\bnever wanted {_HIM}",
    rf"\b(?:calls?|called|calling|tells?|told|telling) {_HIM} (?:(?:that )?(?:hes|shes|theyre|"
    r"he is|she is|they are|he was|she was) )?(?:worthless|useless|stupid|ugly|fat|a mistake|"
    r"a waste|disgusting|a slag|a slut|the devil|evil|possessed|a witch|cursed|a burden|"
    r"unwanted|nothing|pathetic|thick|a freak|a disappointment)\b",
    # punishments that shame or shut a child out
    rf"\b(?:makes?|made|making|forces?|forced|forcing) {_HIM} (?:to )?(?:kneel|stand|sit|stay|"
    r"sleep|eat|wait|live|go without)\b(?: \w+){0,5} (?:for hours|all (?:night|day)|outside|"
    r"in the (?:cold|dark|garden|corner|cupboard|shed|hall\w*|bathroom|car|rain)|on (?:her|his|"
    r"their) own|on the floor|alone|separately|in (?:her|his|their) room)\b",
    r"\b(?:threat\w*|says? (?:shell|hell|theyll)|said (?:shed|hed|theyd)) (?:to )?(?:send|put|kick|"
    r"throw|give|hand|chuck) (?:her|him|them) (?:back|out|away|into care)\b",
    r"\block(?:s|ed|ing)? (?:the )?(?:fridge|food|cupboards?|kitchen)\b|"
    r"\b(?:gets?|got|getting) (?:shouted|screamed|yelled|sworn) at\b",
    rf"\b(?:screams?|screaming|shouts?|shouting|yells?|yelling) at (?:{_HIM}|(?:his|her|their) "
    rf"(?:{_FAMILY})\b)",
    r"\bsmash\w* (?:the place|the house|things|stuff|everything)\b|\bpunch\w* (?:a hole in |"
    r"holes in )?(?:the|a) (?:wall|door|window)s?\b|\b(?:throw|throws|threw|throwing) (?:things|"
    r"stuff|plates|chairs)\b",
    rf"\b(?:{_FAMILY}) (?:and|&) (?:{_FAMILY}) (?:\w+ )?(?:fight|fights|fighting|argue|argues|"
    r"arguing|scream\w*|shout\w*|hit\w*)\b",
    r"\bpolice (?:\w+ ){0,3}(?:his|her|their) (?:house|home|flat|place)\b",
)
# Neglect: no food, nobody home, a child left in charge, what the child looks like.
_NEGLECT = _signs(
    r"\bneglect\w*|\bnot (?:being )?fed\b|\bno food\b|\bnothing to eat\b|"
    r"\b(?:hasnt|has not|havent|not) eaten\b|\bstarving\b|\b(?:always|really|very|so) hungry\b",
    r"\b(?:worn|wearing|wears|in) the same (?:clothes|uniform)\b|\bunwashed\b|\bdirty clothes\b|"
    r"\b(?:she|he|they) (?:always |really |often )?smells?\b|\bnits\b|\bhead lice\b|"
    r"\bsame (?:dirty |smelly |old )?(?:clothes|uniform|jumper|top|trousers|shoes) for\b|"
    r"\b(?:taking|takes|took|stealing|steals|stole|hoard\w*|hid\w*) food\b|"
    r"\beat\w* (?:out of|from) (?:the |a )?bins?\b|\bscaveng\w*|\bbegg\w* for food\b",
    # a home without the basics, a child's body left uncared for
    r"\bno (?:electric|electricity|gas|heating|hot water|water|beds?|money for (?:food|the meter)|"
    r"clean clothes|coat|shoes)\b|\bcereal with water\b|\b(?:dirty|soiled|full|same|yesterdays) "
    r"nappy\b|\bnappy (?:still|rash|not changed)\b|\b(?:really|always|very|so|often) smell(?:s|"
    r"y)\b",
    r"\b(?:bad|rotten|black|decayed) teeth\b|\btoothache\b|"
    r"\bcancel\w* (?:the |her |his |their |all )?(?:dentist|doctor|gp|hospital|appointments?)\b|"
    r"\b(?:no|never) (?:taken|took) (?:her|him|them) to (?:the )?(?:dentist|doctor|gp|hospital)\b",
    r"\b(?:minding|babysitting|looking after|look after|looks after|caring for) (?:the |her |his |"
    r"their )?(?:baby|babies|little ones|toddler|younger ones)\b|\b(?:mum|dad|mom|parents?|"
    r"carers?) (?:goes|go|went|going) out (?:at night|all night|overnight|drinking|partying)\b|"
    r"\boverni\w* (?:while|when) (?:her|his|their) (?:mum|dad|mom|parents?) (?:goes|go|went|is)\b|"
    r"\bleft (?:in charge|on (?:her|his|their) own|to look after)\b",
    r"\bhome alone\b|\bleft alone\b|\b(?:nobody|no one|noone)s? (?:at home|home|looks after)\b",
    r"\b(?:nobody|no one|noone) (?:came|comes|turned up) (?:to (?:get|collect|pick up)|for) "
    rf"{_HIM}|\b(?:nobody|no one|noone) (?:picked|picks|collected|collects) {_HIM}",
    rf"\b(?:{_FAMILY}) (?:is|are|s) (?:never|hardly ever|not ever|always out|never ever) "
    r"(?:home|in|there|around)\b",
    r"\b(?:looks?|looking) after (?:his|her|their) (?:little |younger |baby )?"
    r"(?:brothers?|sisters?|siblings)\b",
    rf"\b(?:{_FAMILY}) (?:hasnt|has not|havent|have not) been (?:around|home|back)\b",
    r"\bon (?:his|her|their) own (?:at home|all night|overnight|in the dark)\b|"
    r"\bwalk\w* home (?:alone|on (?:his|her|their) own)\b",
)
# Sexual abuse in the words a child or a worried adult uses, short of the grave words above.
_SEXUAL_HARM = _signs(
    r"\btouch(?:es|ed|ing)? (?:her|him|them)\b|\binappropriately touch\w*|"
    r"\btouch\w* inappropriately\b|\bprivate parts\b",
    r"\bporn\w*|\bsex\b(?! education)|\bpregnant\b",
    r"\b(?:comes?|came|coming|goes|went|gets|got|climbs?|climbed|walks?|walked|walking) in(?:to)? "
    r"(?:her|his|their|the) (?:room|bed|bedroom|bathroom|shower)\b",
    r"\b(?:watch\w*|film\w*|record\w*|photograph\w*|looks? at|looking at|peep\w*|spy\w*|"
    r"star(?:es|ed|ing) at|walks? in on|walked in on|comes? in on) (?:her|him|them)\b(?: \w+){0,3} "
    r"(?:in the (?:shower|bath)|shower\w*|bath\w*|chang\w*|get(?:ting)? (?:changed|dressed|"
    r"undressed)|dress\w*|undress\w*|naked|in (?:her|his|their) (?:underwear|pyjamas))\b",
    r"\b(?:tickl\w*|touching|secret|special|naughty|rude|private|undress\w*|kissing|cuddl\w*|"
    r"wrestling|doctors and nurses) games?\b",
    r"\b(?:get|gets|getting|got) (?:her|him|them) (?:alone|on (?:her|his|their) own)\b",
    # into a child's bed, their clothes off: the acts, in a child's plain words
    r"\b(?:gets?|got|getting|climbs?|climbed|comes?|came|sneaks?|snuck) (?:in|into) (?:bed|the bed|"
    r"(?:her|his|their) bed) with\b|\bin (?:bed|the bath|the shower) with (?:her|him|them)\b|"
    r"\b(?:sleeps?|slept|sleeping) in (?:her|his|their) bed\b",
    r"\b(?:pull\w*|take\w*|took|tak\w*|tug\w*) (?:(?:her|his|their|my) )?(?:pants|knickers|"
    r"trousers|shorts|underwear|pyjamas|nappy|clothes|top) (?:down|off)\b|\b(?:pull\w*|take\w*|"
    r"took) (?:down|off) (?:her|his|their) (?:pants|knickers|trousers|shorts|underwear|pyjamas)\b",
    r"\b(?:bottom|bum|privates|private parts|down there|vagina|willy|minnie|front bottom|winkle) "
    r"(?:hurts|is sore|was sore|sore|bleeding|hurting|itches)\b|\bsore (?:bottom|bum|privates|"
    r"down there|front bottom|willy|minnie)\b",
    r"\b(?:something|things|stuff|games?) (?:rude|naughty|dirty|private|secret) (?:to|with|on) "
    r"(?:her|him|them)\b|\b(?:rude|naughty|dirty|secret) (?:games?|touching|cuddles|things)\b",
    r"\bsit\w* on (?:his|her|their) (?:lap|knee)s?\b|"
    r"\bkiss\w* (?:her|him|them) on the (?:lips|mouth|neck)\b|"
    r"\bmakes? (?:her|him|them) kiss\b",
    rf"\b(?:makes?|made|making|forces?|forced|forcing|pressur\w*) {_HIM} (?:to )?(?:do|watch|"
    r"touch|send|take|have|kiss|sleep|perform)\b",
    r"\b(?:sleeping|slept|sleeps) with (?:a|an|older|someone|men|man|guys?|\d)",
    r"\btouch(?:ing)? (?:him|her|them|my|your)sel(?:f|ves)\b",
    r"\b(?:puts?|touch\w*|shows?|showed|rubs?|rubbed|lick\w*|suck\w*|grab\w*) (?:\w+ ){0,2}"
    r"(?:willy|willies|penis|dick|privates|vagina|fanny|minnie|winkle|boobs|breasts|bum|bottom)\b|"
    r"\b(?:willy|penis|dick|privates|vagina|fanny|winkle) in (?:her|his|their|my) (?:mouth|face)\b",
    r"\bspiked\b|\bdrugged\b|\bwoke up (?:with no memory|naked|somewhere|in)\b|\bno memory of\b",
    # a young child who knows or acts out what they should not
    r"\bsexual(?:ised|ized)? (?:things|stuff|acts?|behaviou?r|language|games?|knowledge)\b|"
    r"\bshouldnt know about\b",
)
# A child missing, in danger or used by criminals.
_DANGER = _signs(
    r"\b(?:scared|afraid|frightened|terrified) (?:of|to|about) (?:go(?:ing)? (?:home|back)|"
    r"her|his|their|him|them|mum|mom|dad|step\w*|uncle|home|someone|a man|(?:the|some|those) "
    r"(?:man|men|guy|guys|boys|lads|girls|people|older \w+))\b",
    r"\b(?:scared|afraid|frightened|terrified) at home\b",
    r"\b(?:doesnt|dont|didnt|does not|do not|not|never) feels? safe\b|\bfeels? unsafe\b",
    r"\b(?:isnt|is not|not) safe (?:at home|there)\b|\bunsafe at home\b",
    r"\bin (?:immediate )?danger\b|\bat risk (?:of|from)\b",
    r"\b(?:run|runs|ran|running) away\b|\b(?:gone|went|is|been|going) missing\b",
    r"\b(?:hasnt|has not|havent|not) (?:been|come|gone) home\b|\b(?:doesnt|dont|does not|do not|"
    r"nobody|no one) knows? where (?:she|he|they) (?:is|are)\b",
    r"\b(?:kicked|thrown|chucked) (?:her |him |them )?out (?:of (?:home|the house)|at home)\b|"
    r"\bnowhere to (?:sleep|stay|live|go tonight)\b|\bsleeping rough\b|\bsofa ?surf\w*|"
    r"\b(?:sleeping|sleeps|slept|living|lives|staying) in (?:a|the|his|her|their) (?:car|van|tent|"
    r"park|hostel|shed)\b",
    r"\b(?:doesnt|dont|does not|do not|didnt|did not|never) want(?:s|ed)? to go (?:back )?home\b",
    r"\b(?:wont|will not|wouldnt|refuses? to|refused to|refusing to|scared to|afraid to|begg\w* "
    r"not to|cried about having to) go (?:back )?home\b",
    r"\b(?:hasnt|has not|havent|not) been (?:in|at|to) school (?:for|since)\b|"
    r"\b(?:nobody|no one|noone) (?:answers|answered|is answering|picks up)\b|"
    r"\b(?:cant|cannot|can not|couldnt) (?:get hold of|contact|reach) (?:the )?(?:family|parents?|"
    r"mum|dad|carers?)\b",
    r"\b(?:knife|knives|blade|weapons?|guns?|stab\w*|bomb)\b",
    r"\b(?:machetes?|zombie knife|knuckle ?dusters?|crossbows?|firearms?|shotguns?|pistols?|"
    r"ammo|ammunition|acid attack|bombs|explosives?|shank\w*)\b",
    # missing from home or care, which exploitation starts with
    r"\bawol\b|\babscond\w*|\b(?:disappear|vanish)(?:s|ed|ing)? (?:for|overnight|from|again|at "
    r"night|at weekends|after school)\b|\b(?:stays?|staying|stayed) out (?:all night|overnight|"
    r"till|until|late)\b|\bout all night\b|\b(?:missing|absent) from (?:home|care|the care home)\b",
    r"\b(?:train|bus|coach) tickets? (?:to|from)\b|\b(?:two|2|second|extra|burner) phones?\b|"
    r"\b(?:gets?|getting|got|climbing|climbs?) (?:into |in )(?:cars|taxis|a taxi|vans|strangers? "
    r"cars?)\b|\bpicked up by (?:older|men|a man|guys|strangers|lads|boys|someone)\b|"
    r"\bowes? (?:\w+ ){0,2}(?:money|cash|\d+|quid|a debt)\b|\bin debt to\b",
    rf"\b(?:makes?|made|making|forc\w*|gets|getting|told|telling|pressur\w*|being made|been made) "
    rf"(?:{_HIM} )?(?:to )?(?:fight|steal|shoplift|rob|mug|deal|sell drugs|run drugs|"
    rf"do (?:runs|drops|"
    r"jobs))\b",
    r"\b(?:paid|pays|paying|offered|being made|been made|forced|given (?:money|cash)) "
    r"(?:\w+ ){0,6}to (?:move|carry|deliver|drop off|hold|hide|stash|sell|run|collect) "
    r"(?:a |the |some |their )?(?:bags?|packages?|parcels?|stuff|drugs|money|cash|phones?)\b|"
    r"\bpaid (?:in|with) (?:crypto|bitcoin|cash|vapes?|weed|trainers|clothes|food)\b",
    r"\bpass(?:ed|ing)? (?:a?round|between) (?:\w+ ){0,2}(?:older|men|guys|lads|boys|friends|"
    r"mates)\b",
    r"\b(?:carry|carrying|carried|sell\w*|deal\w*|deliver\w*|hold\w*|hid\w*) drugs\b",
    rf"\b(?:makes?|made|making|forc\w*|gets|getting|told|telling|asks?|asked|being made|been made) "
    rf"(?:{_HIM} )?(?:to )?"
    r"(?:hold|carry|deliver|sell|hide|stash|keep|move|drop off) (?:stuff|things|packages?|bags?|"
    r"parcels?|drugs|it|something|money)",
    r"\b(?:in|join\w*|part of|recruited|for|with|into) (?:a |the )?gangs?\b|"
    r"\bdrug (?:deal\w*|run\w*|debt)\b",
    r"\b(?:offered|offers|paid|pays|pay|give|gives|gave) (?:her|him|them) (?:money|cash|\w+ quid|"
    r"\d+) (?:to|for)\b",
    r"\b(?:carry|carrying|carried|take|takes|taking|took|deliver\w*|drop\w* off|hold\w*|hide|"
    r"hid\w*|stash\w*|move|moving) (?:a |the |some )?(?:bags?|packages?|parcels?) (?:for|to)\b",
)
# FGM, forced marriage and radicalisation, in the words a child would use.
# When, where and by whom a girl is cut: a trip, a ceremony, an older woman of the family, a
# country where FGM is common.
_FGM_WHEN = (
    r"abroad|summer|holidays?|half term|ceremony|procedure|back home|aunt\w*|grandma|gran|nan|"
    r"elders?|cutter|visit\w*|coming over|flying|somalia|sudan|egypt|ethiopia|eritrea|gambia|"
    r"sierra leone|guinea|mali|nigeria|kenya|yemen|iraq|kurdistan|djibouti|indonesia"
)
_CULTURAL = _signs(
    rf"\b(?:be|being|get|getting|been|her) cut(?:ting)?\b.*\b(?:{_FGM_WHEN})\b|"
    rf"\b(?:{_FGM_WHEN})\b.*\b(?:be|being|get|getting|been|her) cut(?:ting)?\b",
    r"\bspecial (?:procedure|ceremony|operation|celebration)\b|\bbecome a woman\b|"
    r"\b(?:have|having|get|getting) (?:a|her|the) (?:ceremony|procedure)\b|\bcircumcis\w*|"
    r"\bsunna\b|\bkhatna\b",
    r"\bsend\w* (?:her|him|them) (?:away|abroad|back home) to\b|\bsent (?:away|abroad) to\b|"
    r"\b(?:fixed|cured|straightened out) (?:for|of) being\b|\bconversion (?:therapy|practices?)\b|"
    r"\bexorcis\w*",
    r"\b(?:found|chosen|chose|picked|arranged|lined up|promised) (?:her|him|them) (?:to )?(?:an? )?"
    r"(?:husband|wife)\b|\b(?:husband|wife) (?:for (?:her|him|them)|back home|lined up)\b",
    r"\b(?:hurts?|painful|pain|sore) (?:to|when (?:she|he|they)) (?:go to the toilet|"
    r"goes to the toilet|wee|pee)\b",
    r"\b(?:her|him|them|she|he|they|shes|hes|shell|hell|shed|hed|theyll)\b(?: \w+){0,4} to "
    r"(?:marry|wed|get married|be married|be engaged|get engaged|a wedding)"
    r"\b|\bmarried off\b|\barranged marriage\b|\b(?:her|his|their) future (?:husband|wife)\b",
    r"\bradicali[sz]\w*|\bextremis\w*|\bterroris\w*|\bjihad\w*|\bfar (?:right|left)\b|"
    r"\bneo ?nazi\w*|\bnazi\w*|\bwhite (?:power|supremac\w*)\b|\bisis\b",
    r"\bextreme (?:group|groups|views|videos|content|ideas|channels?|websites?)\b",
    r"\b(?:the )?(?:muslims|jews|jewish people|christians|immigrants|refugees|black people|"
    r"white people|gay people|trans people|asians|foreigners|sikhs|hindus|migrants) "
    r"(?:control|are (?:taking over|invading|replacing|ruining|vermin|animals|evil|the "
    r"enemy|behind|parasites|subhuman|a disease)|should (?:go back|be deported|leave))\b",
    r"\b(?:great replacement|white genocide|race war|remigration|incels?|blackpill\w*|"
    r"mein kampf|manifesto|accelerationis\w*|kkk|ku klux|national action|caliphate|kuffar|"
    r"martyr\w*|holy war|infidels?|1488|14 words|proud boys|ethnic cleansing)\b",
    r"\b(?:join|joining|joined|fight for|go (?:and )?fight|travel to syria|go to syria)\b"
    r"(?: \w+){0,4} (?:group|movement|cause|organisation|army|militia|them)\b(?=.*\b(?:telegram|"
    r"online|discord|extreme|war|race|white|jihad|islam\w*|nazi|videos)\b)",
    r"\b(?:agrees?|agreed|agreeing|supports?|admires?|praises?|praising) (?:with )?(?:hitler|"
    r"the nazis|terrorists?|(?:the )?(?:guy|man|person|bloke|shooter|attacker|bomber) who)\b|"
    r"\bhitler (?:was|is) (?:right|a hero|good|great)\b|\bswastikas?\b|\b(?:mosque|church|"
    r"synagogue|mass|school) (?:shootings?|shooters?|attacks?|bombings?|bombers?)\b",
    r"\b(?:shooter|bomber|attacker|terrorist|gunman)s?\b.*\b(?:legend|hero|right|king|based|idol|"
    r"inspiration)\b|\b(?:legend|hero|idol|inspiration)\b.*\b(?:shooter|bomber|attacker|"
    r"terrorist|gunman)s?\b",
    r"\b(?:fight|die|kill) for (?:them|the cause|their cause|allah|isis|the race|his race)\b",
    r"\b(?:muslims|jews|christians|immigrants|refugees|black people|white people|gay people|"
    r"asians|foreigners|sikhs|hindus|migrants) (?:should|must|need to|deserve to) (?:all )?"
    r"(?:be )?(?:die|killed|wiped out|deported|gassed|shot|burned|burnt)\b",
)
# A child telling of a secret, or staff naming the worry outright.
_SAID_OUTRIGHT = _signs(
    r"\babus\w*",
    r"(?:\bkeep (?:it|this|a|the)(?: \w+)? secret\b|\b(?:a|our|their|big|little|special) secret\b)"
    r"(?!.*\b(?:surprise|party|present|gift|birthday)\b)|"
    r"\bpromise (?:not to|to not|to keep|i wont|you wont|youll not|me you wont|not)\b|"
    r"\bnot to tell\b|\bdont tell (?:anyone|anybody|my|her|his|mum|dad)\b",
    r"\bsomething (?:really |very |quite |a bit |so )?(?:worrying|concerning|disturbing|"
    r"alarming|upsetting|scary|dark|troubling)\b",
    # a worry about the child, not about a child's photo or post
    rf"\b(?:worried|concerned|worries|concerns?) (?:about|for) (?:a |an |one of (?:my|our|the) "
    rf"|this |that |my |our |the )?(?:\w+ )?(?:{_CHILD_WORDS})\b(?! (?:photos?|pictures?|pics?|"
    r"images?|posts?|comments?|accounts?|names?|details|data|privacy|work|grades|homework|"
    r"coursework|results?|consent|parents?|mum|dad))",
    r"\b(?:worried|concerned) (?:about|for) (?:her|him|them)\b",
    r"\b(?:safeguarding|welfare|wellbeing) (?:concern|issue|worry|worries|concerns|issues)\b",
    r"\beating disorder\b|\banorexi\w*|\bbulimi\w*|\b(?:stopped|not) eating\b|\bdepress\w*",
    r"\b(?:cant|cannot|can not|not) cop(?:e|ing)\b|\bpanic attacks?\b",
    r"\b(?:disclosed|discloses|disclosing) (?:to|that|something|abuse|being|she|he|they|it|"
    r"what|her|his)\b|\b(?:made|make|making|makes) a disclosure\b|\ba disclosure (?:from|by)\b",
)
# The warning signs of suicide that are only worrying in a child's mouth or life.
_SUICIDE_SIGNS = _signs(
    r"\b(?:hates?|hating|hated) (?:his|her|their|my) (?:life|lives)\b",
    r"\b(?:wants?|wanted|wanting) to (?:disappear|vanish|run away|go away forever)\b",
    r"\bgiv(?:ing|en|es|e) (?:away )?(?:all )?(?:of )?(?:her|his|their|my)? ?(?:things|stuff|"
    r"belongings|possessions|clothes|games) away\b|\bgiving away (?:her|his|their|all)\b",
    r"\bnot long (?:now|left)\b",
    r"\b(?:nobody|no one|noone|no1) (?:would|will|wud|wd|is going to|gonna) (?:even )?(?:miss|"
    r"notice|care)\b",
    r"\b(?:fresh|new|deep) (?:cuts|scars|wounds|burns)\b|\blong sleeves\b",
)
# Softer signs: a concern when someone passes on what a child said or showed (_FRAME).
_SOFT = _signs(
    # "scared when he drinks", but not "scared of the dog in my profile picture"
    r"\b(?:scared|afraid|frightened|terrified|petrified)\b(?! of (?:the|a|my|your) )",
    r"\bpolice (?:came|come|were|was|have been|had to|got called|called) (?:\w+ )?"
    r"(?:round|to (?:his|her|their)|at (?:his|her|their))\b|"
    r"\bpolice (?:took|arrested) (?:his|her|their)\b|"
    r"\b(?:called|rang|phoned) the police (?:on|because|when)\b",
    r"\bdrunk\b|\b(?:been|is|was|gets|starts|keeps|when (?:he|she|they)s?) drink(?:ing|s)\b"
    r"(?! (?:water|enough|energy))|\boff (?:his|her|their) face\b|\b(?:is|was|gets|got) "
    r"(?:high|stoned)\b",
    r"\b(?:hide|hides|hiding|hid)\b(?! (?:them|it|this|that|these|those)\b)"
    r"(?! (?:my|the|a|her|his|their|our) (?:\w+ )?(?:profile|account|posts?|"
    r"photos?|page|likes|comments?|followers|stories|story|tweets?|pictures?|reactions))",
    r"\bwithdrawn\b(?! from)",
    r"\binjur\w*|\bhurts?\b|\bflinch\w*|\bscars?\b|\bin (?:agony|pain)\b",
    r"\bhungry\b|\bno (?:lunch|breakfast|dinner|tea)\b|\bpills\b|"
    r"\bdirty (?:clothes|uniform|jumper|hair|nappy|house|home)\b|"
    r"\bself ?medicat\w*|\bbleeding\b|"
    r"\b(?:cant|cannot|can not) (?:do this|go on|take (?:it|this)|carry on)\b|"
    r"\buncomfortable (?:when|around|with (?:him|her|them|his|how))\b|"
    r"\bmakes? (?:her|him|them) (?:feel )?uncomfortable\b|\bhomeless\b|"
    r"\bwet(?:s|ting)? (?:her|him|them)sel(?:f|ves)\b|\bsoil(?:s|ing)\b",
)
_PLATFORMS = (
    r"snapchat|instagram|tik ?tok|roblox|discord|fortnite|minecraft|whatsapp|facebook|fb|"
    r"xbox|playstation|ps[45]|omegle|wizz|yubo|kik|telegram|twitch|youtube|reddit|steam|"
    r"among us|call of duty|cod|a game|an app|the internet|online|a chat|a website|a site"
)
# An adult or a stranger in a child's life online: the start of grooming.
_CONTACT = _signs(
    r"\b(?:older|grown|adult|old) (?:men|man|guys?|blokes?|boys?|lads?|males?|women|woman|"
    r"person|people|stranger)\b",
    r"\ban adult (?:online|on|she|he|they|who|man|woman)\b|\bstrangers?\b(?! danger)",
    r"\bsomeone (?:she|he|they) (?:met|meets|talks? to|has been talking to|doesnt know)\b",
    rf"\bmet (?:online|(?:on|through|via) (?:{_PLATFORMS}|a dating))\b",
    r"\ba (?:man|guy|bloke) (?:online|at|from|in|she|he|who|keeps|has|is)\b",
    r"\b(?:boyfriend|girlfriend|man|guy|bloke) (?:who is |whos |is )(?:1[89]|[2-9]\d)\b",
    r"\b(?:1[89]|[2-9]\d) ?(?:years?|yrs?) old (?:man|guy|bloke|boyfriend|woman)\b",
    r"\bblackmail\w*|\bextort\w*",
    # an adult getting a child alone, at their own place: grooming known in person. Invited to
    # his house is that; taken to "his house" may be the boy's own, so only to a place of the
    # adult's own.
    rf"\b(?:invit\w*|gets|got|asks|asked) {_A_CHILD}"
    r"(?: \w+){0,2}? (?:to|round to|back to|over to|into|round|over) (?:his|her own|their own) "
    r"(?:caravan|flat|house|place|car|van|room|bedroom|shed|hotel|tent|garage|office|home)\b",
    rf"\b(?:tak\w*|took|bring\w*|brought|driv\w*|drove) {_A_CHILD}"
    r"(?: \w+){0,2}? (?:to|round to|back to|over to|into) (?:his|her own|their own) "
    r"(?:caravan|flat|van|bedroom|shed|hotel|tent|garage|office)\b",
    # lying about an age, or someone not who they said
    r"\b(?:says|said|claims?|claimed|claiming|pretend\w*|makes? out) (?:hes|shes|theyre|he is|"
    r"she is|"
    r"they are|to be|(?:he|she|they) (?:is|was|were)) (?:only )?(?:1[0-7]|a (?:girl|boy|kid|"
    r"teen))\b|"
    r"\bsounds? (?:way |much |a lot |so )?older\b|\bturn(?:s|ed)? out to be\b",
    # pictures traded for things a child wants, or asked for by someone
    rf"\b{_IMAGES} (?:\w+ ){{0,2}}(?:in exchange|in return|for (?:vapes?|money|cash|weed|gift|"
    rf"robux|"
    r"v ?bucks|credit|skins|followers|trainers|clothes|alcohol|drink|fags|cigarettes))\b|"
    r"\b(?:vapes?|money|cash|weed|gift cards?|robux|v ?bucks|credit|skins|trainers|alcohol|fags|"
    rf"cigarettes) (?:in exchange |in return )?for (?:\w+ )?{_IMAGES}",
    r"\b(?:someone|somebody|a (?:man|guy|stranger|boy|lad|person|woman|girl|account|profile)|men|"
    r"guys|people|an account|older \w+) (?:\w+ ){0,3}(?:asked|asks|asking|keeps asking|wants?|"
    r"wanted|begg\w*|pressur\w*|demand\w*|offered|offers) (?:(?:her|him|them) )?(?:for |to send |"
    rf"to (?:take|make|see) |to swap )(?:a |some |more |any )?(?:\w+ )?{_IMAGES}",
    # pictures sent to a child of someone's body
    rf"\b(?:dick|cock|willy|penis|d) pics?\b|\b{_IMAGES} of (?:their|his|her|them|him|themselves|"
    r"himself|herself) (?:\w+ )?(?:privates|private parts|penis|dick|willy|genitals|bits|boobs|"
    r"breasts|bum|body|naked|in (?:their|his|her) underwear)\b",
    r"\b(?:asks?|asked|asking) (?:her|him|them) (?:what|about) (?:colou?r )?(?:(?:her|his|their) )?"
    r"(?:underwear|knickers|bra|pants|body|bra size)\b",
    rf"\b(?:sexual|explicit|inappropriate|rude|dirty) (?:{_IMAGES}|messages?|texts?|content|"
    r"chats?)\b",
    r"\b(?:man|men|guy|guys|bloke|someone|somebody) (?:\w+ ){0,2}in (?:a|his|their) car\b|"
    r"\b(?:waiting|waits|hanging around|follow(?:s|ing|ed)?|watching) (?:for )?(?:her|him|them) "
    r"(?:outside|after|near|at|from) (?:school|the gates?)\b",
    r"\bmature for (?:her|his|their) age\b|\bwhat (?:she|he|they)s? (?:is |are )?wearing\b",
    r"\b(?:asked|asks|asking|keeps asking|wants|wanted|told|telling|pressur\w*) (?:her|him|them) "
    rf"(?:to )?send (?:him|her|them|me) (?:a |some |more )?(?:\w+ )?{_IMAGES}",
)
# Someone a child knows only online, or hardly at all ...
_UNKNOWN_PERSON = _signs(
    r"\b(?:someone|somebody|a (?:man|guy|bloke|person|friend|woman|stranger|account|profile)|"
    r"an? (?:influencer|youtuber|streamer|gamer|agent|scout|producer|photographer|manager|"
    r"modelling agent|talent scout|account)|"
    r"some (?:man|guy|bloke|person|account|one|people)|people|men|guys)"
    rf"(?: \w+){{0,3}} (?:on|from|off|in|through|via) (?:{_PLATFORMS})\b",
    r"\b(?:guy|man|bloke|person|someone|somebody|friend|people)s?(?: \w+)?? (?:she|he|they)s? "
    r"(?:plays?|played|met|meets|talks? to|chats? to|games with|has never met|never met|"
    r"doesnt know|dont know)\b",
    r"\b(?:never|not) (?:met|seen) (?:in person|irl|in real life)\b|\b(?:has|have)s? never met\b",
)
# ... doing what groomers do: gifts, secrecy, asking for pictures, wanting to meet alone.
_GROOMING = _signs(
    r"\b(?:wants?|wanted|asking|asked|asks|keeps asking|trying) (?:her |him |them )?(?:to )?"
    r"meet(?: up)?\b|\bmeet (?:up|in person|irl)\b",
    r"\bdelete (?:all )?(?:of )?(?:the |their |his |her |our )?(?:chats?|messages?|texts?|dms)\b",
    rf"\bvideo ?call (?:{_HIM})|\bon (?:his|her|their) own\b|\balone\b",
    rf"\b(?:asking|asked|asks|keeps asking|wants|wanted) (?:her |him |them )?(?:for )?{_IMAGES}",
    rf"\b{_IMAGES} of (?:her|him|them)\b",
    r"\bkeep (?:it|this|them|the chats?|quiet)(?: a)? secret\b|\bkeep (?:it|this) quiet\b",
    r"\b(?:gifts?|presents?|money|gift cards?|robux|v ?bucks|vouchers|skins|credit)\b",
    r"\b(?:buys?|bought|buying|gives?|gave|giving|sends?|sent|sending|got) (?:her|him|them) "
    r"(?:stuff|things|clothes|trainers|phones?|vapes?|alcohol|drinks?|food|takeaways?|nails|"
    r"make ?up|top ?ups?)\b",
    r"\b(?:not to|cant|cannot|can not|mustnt|must not|shouldnt|not allowed to|never to|wont) tell "
    r"(?:anyone|anybody|no one|nobody|her|his|their|mum|dad|my|the)\b",
    r"\b(?:where|what school) (?:she|he|they) (?:lives?|goes|go)\b|\b(?:her|his|their) address\b",
    r"\b(?:beautiful|gorgeous|fit|hot|sexy|pretty|special)\b",
    r"\boffer(?:s|ed|ing)? (?:her|him|them) (?:a |an |some )?\w+",
    rf"\b(?:if|once|when) (?:she|he|they) (?:sends?|shares?|posts?|makes?) (?:\w+ )?{_IMAGES}",
)
# Asking money for a picture, or paying for one: sextortion and sexual exploitation online.
_SEXTORTION = _signs(
    rf"\b(?:or|unless|otherwise) (?:\w+ ){{0,3}}(?:send|share|post|show|leak|put|spread)\w* "
    rf"(?:it|them|(?:the|her|his|their) {_IMAGES})",
    rf"\b{_IMAGES}\b.*\b(?:demand\w*|wants?|asking for|asked for) (?:\w+ )?(?:money|cash|quid|"
    r"pounds|\d+)\b",
    r"\b(?:paid|pay|pays|paying|money) (?:\w+ ){0,3}(?:to|for) (?:do |send |make )?(?:live ?"
    r"streams?|videos?|pics?|photos?|nudes?|webcam|cam|shows?)\b|\blive ?stream\w* for (?:men|"
    r"man|guys|adults|people|someone|older)\b",
    r"\b(?:doing|do|did|does) (?:sexual|sexy|rude|dirty) (?:stuff|things)\b",
    r"\b(?:asked|asks|told|tells|wants?|wanted|made|makes|getting|got) (?:her|him|them) to "
    r"(?:\w+ ){0,4}on (?:camera|cam|webcam|video|video call|facetime)\b",
    r"\b(?:naked|nude|topless)\b",
    rf"\b{_IMAGES}\b(?: \w+){{0,4}} (?:will |would |are going to |gonna |going to )?(?:go|be sent|"
    r"be shared|be posted|get sent|get shared|get posted|be leaked|leak|end up) (?:to|on|round|"
    r"everywhere|online|out)\b(?=.*\b(?:unless|or else|otherwise|if (?:he|she|they) (?:doesnt|dont|"
    r"wont|does not|do not|will not|refuses?)|threat\w*|told)\b)",
    rf"\b(?:unless|or else|otherwise|if (?:he|she|they) (?:doesnt|dont|wont|does not|do not)) "
    rf"(?:\w+ ){{0,3}}(?:send|sends|sending|pay|pays|paying|give|gives|does|do) (?:\w+ )?"
    rf"(?:more|money|cash|\d+|another|them|it|{_IMAGES})\b",
    rf"\b{_IMAGES}\b.*\b(?:underwear|knickers|bras?|boxers|lingerie|undress\w*|"
    r"(?:getting )?changing|in the shower|showering)\b",
)
# Someone who works with children doing what they should not with one: an allegation about
# an adult, which goes to the headteacher (and the LADO) rather than to the policy. The adult
# must be the one acting ("the PE teacher asked her...", "touched ... by a teacher"), not the
# one passing it on ("a teacher told me her stepdad...").
_STAFF_ADULT = (
    r"(?:mr|mrs|miss|ms|sir|teachers?|colleagues?|members? of staff|staff members?|tas?|"
    r"teaching assistants?|coach(?:es)?|tutors?|cover (?:supervisor|teacher|staff)|supply teacher|"
    r"caretaker|lsa|technician|deputy head|head ?teacher|the head|volunteer|youth worker|"
    r"sports coach|lunchtime supervisor|dinner lady|mdsa|minibus driver|driver|chaplain|"
    r"instructor|mentor|counsell?or|nurse|sencos?|governor|trainee|student teacher|pe staff)"
)
_ADULT_ACTS = (
    r"(?:messag\w*|text(?:s|ing|ed)?|dm\w*|snapchat\w*|add(?:s|ed|ing)?|follow(?:s|ed|ing)?|"
    r"sent|sends|sending|touch\w*|kiss\w*|hug\w*|groom\w*|abus\w*|assault\w*|rap(?:ed|ing)|"
    r"stroke[sd]?|stroking|rubb?(?:s|ed|ing)?|tickl\w*|cuddl\w*|grope[sd]?|groping|fondl\w*|"
    r"puts? (?:his|her|their) hands?|put (?:his|her|their) hands?|offer\w*|call(?:s|ed|ing)?|"
    r"ring(?:s|ing)?|rang|phon\w*|facetim\w*|whatsapp\w*|insta\w*|"
    r"asked|asks|asking|told (?:her|him|them)|tells (?:her|him|them)|giv\w*|gave|bought|buys|"
    r"tak(?:es|ing) (?:her|him|them|a \w+ \w+)|took (?:her|him|them|a \w+ \w+)|"
    r"keeps? (?:her|him|them)|alone with|relationship with|dating|going out with)"
)
_BY_AN_ADULT = _signs(
    rf"\b{_STAFF_ADULT}s?\b(?: (?!told|tells|said|says|showed|mentioned|noticed)\w+){{0,4}} "
    rf"{_ADULT_ACTS}\b",
    rf"\b{_ADULT_ACTS}\b(?: \w+){{0,3}} (?:by|from) (?:a |the |one of the |our |my |her |his )?"
    rf"{_STAFF_ADULT}\b",
)
# ... and what marks it as wrong: private, at night, flattering, touching, gifts and lifts.
_WITH_A_PUPIL = _signs(
    r"\b(?:messag\w*|texts|texting|texted|dms|snapchat\w*|snaps?|added|adds|adding|followed|"
    r"follows|following|call(?:s|ed|ing)?|rang|ring(?:s|ing)|phon\w*|facetim\w*)\b"
    r"(?:.*\b(?:late at night|at night|midnight|[1-5]am|personal|private|"
    r"secret|insta\w*|snap\w*|tik ?tok|whatsapp|keeps|kept|been|beautiful|gorgeous|pretty|fit|"
    r"hot|sexy|love|kisses|xx+|weekends?|evenings?|holidays?|delete\w*|deleting|dont tell|"
    r"not (?:to )?tell|own phone|home))",
    r"\b(?:lifts? home|gives? (?:her|him|them) lifts?|giving (?:her|him|them|a \w+ \w+) lifts?|"
    r"alone with|gifts? for|presents? for|bought (?:her|him|them))\b",
    r"\b(?:giv\w*|gave|bought|buys|buying|offer\w*|slipped|sneak\w*|snuck) (?:her|him|them) "
    r"(?:\w+ )?(?:money|cash|gifts?|presents?|vapes?|cigarettes|fags|alcohol|drinks?|vodka|beer|"
    r"wine|cider|booze|weed|drugs|pills|lifts?|a lift|(?:his|her|their) (?:number|snap\w*|"
    r"insta\w*))\b",
    r"\bhands? (?:on|up|round|around|down) (?:\w+ )?(?:her|his|their|a|"
    r"the) (?:\w+ ){0,3}(?:thigh|leg|"
    r"knee|bum|bottom|waist|chest|breasts?|top|skirt|shorts|trousers|back|neck)s?\b",
    r"\binappropriate\w*|\btouch\w*|\bkiss\w*|\bhug\w*|\bgroom\w*|\babus\w*|\bassault\w*|"
    r"\brap(?:ed|ing)\b|\b(?:relationship|dating|going out) with\b",
    r"\b(?:asked|asks|asking|wants|wanted|told|tells) (?:her|him|them) (?:to )?(?:send|meet|keep|"
    r"delete|lie|not tell|come (?:round|over|to)|visit)\b",
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
_TEACHING_WORDS = (
    r"lessons?|assembl(?:y|ies)|posters?|leaflets?|training|awareness|campaigns?|resources?|"
    r"workshops?|pshe|rse|curriculum|e ?safety|online safety|internet safety|newsletters?|"
    r"articles?|guidance|webinars?|advice|tips|information|info|factsheets?|helplines?|slides|"
    r"videos?|week|day|drama|plays?|documentar(?:y|ies)|films?|talks?|sessions?|units?|topics?|"
    r"projects?|displays?|presentations?|quiz(?:zes)?|modules?|scheme of work|speakers?"
)
_TEACHING = re.compile(rf"\b(?:{_TEACHING_WORDS})\b|\b(?:learning|learn|learnt|taught) about\b")
# Material that names its topic: "the assembly on knife crime", "year 2 learning about ...".
_TEACHING_TOPIC = re.compile(
    rf"\b(?:{_TEACHING_WORDS})(?: \w+){{0,3}}? (?:on|about|around)\b|"
    rf"\banti (?:\w+ ){{0,2}}(?:{_TEACHING_WORDS})\b|"
    r"\b(?:learning|learn|learnt|taught) about\b"
)
_SHARING = re.compile(
    r"\b(?:share|post|use|show|put|upload|send|teach|teaching|deliver|run|print|film|record|"
    r"display|go (?:on|up)|advertise|promote|invite|book|host|organise)\b"
)
# One child in particular ("a year 10 boy", "one of my pupils"): a situation, not a topic.
_A_PARTICULAR_CHILD = re.compile(
    rf"\b(?:a|an|one of (?:my|our|the)|this|that|my|our) (?:\w+ )?(?:{_CHILD_WORDS})\b"
)


def _teaching_only(words: str) -> bool:
    """Sharing material about the topic, with no child's words passed on: for the signs grave
    enough on their own, when the message names no child."""
    return bool(_TEACHING.search(words) and _SHARING.search(words) and not _FRAME.search(words))


def _teaching_a_group(words: str) -> bool:
    """Sharing material that names its topic, with a class or year group but no one child in
    it: "can I share the year 11 assembly on knife crime?". A child in particular, or their
    words passed on, make it a worry again, whatever is shared with them after."""
    return bool(
        _TEACHING_TOPIC.search(words)
        and _SHARING.search(words)
        and not _FRAME.search(words)
        and not _A_PARTICULAR_CHILD.search(words)
    )


# -- 3. what kind of concern -----------------------------------------------------------------


def safeguarding_concern(text: str) -> Concern | None:
    """The worry about a child `text` speaks of, or None if it is a question for the policy."""
    words = tidy(text)
    child = _CHILD.search(words) is not None
    if (
        child
        and _BY_AN_ADULT.search(words)
        and _WITH_A_PUPIL.search(words)
        and _FRAME.search(words)
    ):
        return Concern(ConcernKind.ADULT, "an adult who works with children")
    # A grave word counts whoever it is about, unless the message is about teaching the topic:
    # to no child in particular, or to a class or year group with no child singled out.
    grave_alone = (child or not _teaching_only(words)) and not _teaching_a_group(words)
    if grave_alone and _SEXUAL_IMAGES.search(words):
        return Concern(ConcernKind.SEXUAL, "sexual image, sextortion or grooming")
    if grave_alone and _SUICIDE.search(words):
        return Concern(ConcernKind.HARM, "suicide")
    if grave_alone and _SELF_HARM.search(words):
        return Concern(ConcernKind.HARM, "self-harm")
    if grave_alone and (_SEXUAL_ABUSE.search(words) or _OTHER_GRAVE.search(words)):
        return Concern(ConcernKind.HARM, "abuse")
    if not child or _teaching_a_group(words):
        return None
    about = _AT_STAFF.sub(" ", words)
    if (
        _CONTACT.search(about)
        or _SEXTORTION.search(about)
        or (_UNKNOWN_PERSON.search(about) and _GROOMING.search(about))
    ):
        return Concern(ConcernKind.SEXUAL, "an adult or stranger in contact with a child")
    harm = _ONLINE_ABUSE.sub(" ", about)
    for signs, sign in (
        (_PHYSICAL, "physical harm"),
        (_SEXUAL_HARM, "sexual harm"),
        (_EMOTIONAL, "emotional harm or domestic abuse"),
        (_NEGLECT, "neglect"),
        (_DANGER, "a child in danger or exploited"),
        (_CULTURAL, "FGM, forced marriage or radicalisation"),
        (_SUICIDE_SIGNS, "signs of suicide or self-harm"),
        (_SELF_HARM_SIGNS, "signs of suicide or self-harm"),
        (_SAID_OUTRIGHT, "a worry named outright"),
    ):
        if signs.search(harm):
            return Concern(ConcernKind.HARM, sign)
    if _BULLYING.search(about):
        return Concern(ConcernKind.ONLINE_ABUSE, "bullying or threats of a child")
    if _FRAME.search(harm) and _SOFT.search(harm):
        return Concern(ConcernKind.HARM, "something a child said or showed")
    return None


# Every group of signs, of every strength, for the weaker reading below.
_ANY_SIGN = (
    _SEXUAL_IMAGES, _SUICIDE, _SELF_HARM, _SEXUAL_ABUSE, _OTHER_GRAVE, _CONTACT, _SEXTORTION,
    _GROOMING, _UNKNOWN_PERSON, _PHYSICAL, _SEXUAL_HARM, _EMOTIONAL, _NEGLECT, _DANGER,
    _CULTURAL, _SUICIDE_SIGNS, _SELF_HARM_SIGNS, _SAID_OUTRIGHT, _SOFT, _BULLYING,
)  # fmt: skip


def may_concern_a_child(text: str) -> bool:
    """Whether a question the intercept let through could still be a worry about a child: it
    speaks of a child (or passes on what someone said) and has any sign of any strength.

    Why: the recogniser misses wording nobody has written yet, and a miss must not be met with
    policy clauses. So an answer to such a question shows no clauses that "may help" and names
    the safeguarding lead (policy_answer.PolicyAnswer.child_safety). Reading this widely costs
    little: the question still gets its answer if the policy answers it. Of the recogniser's
    265 near misses in the tests, 12 read so ("a student sent me a friend request, should I
    report it?", "invite the police to talk to year 9 about knife crime"); none of the older
    bench set's dev split does. (The staff questions were not re-run after the third round.)
    """
    words = tidy(text)
    if _CHILD.search(words) is None and _FRAME.search(words) is None:
        return False
    about = _AT_STAFF.sub(" ", words)
    # Wider than the recogniser in every direction: what it recognises (an adult in school
    # among them, whose signs are not listed above) is read so too.
    return any(signs.search(about) for signs in _ANY_SIGN) or safeguarding_concern(text) is not None
