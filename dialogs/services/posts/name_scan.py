"""Finds children's names in a post before it goes on an official school account.

The staff social media policy says nothing in a post on a school account may identify a child,
and a name is the commonest way that happens: "Well done Amelia Hart in Year 4!" next to the
school's name and a photo tells the whole internet who and where that child is. This module reads
the text of a post and returns what looks like a name, so the bot can WARN the author before the
post is submitted and show the same warnings to whoever approves it. It never blocks: the author
knows things the checker cannot (that "Grace Darling" is a history topic, that the Hart family
run the fair), so every finding explains itself and the people decide.

A checker that cries wolf is soon ignored, so most of the rules below exist to stay quiet on the
ordinary text of school posts. There are three kinds of finding:

``pupil``
    A pupil's full name from the school's consent register. Matched ignoring case and accents
    ("Zoe O'Neill" finds "Zoë O'Neill", with a straight or curly apostrophe), whether a hyphen
    is written or not ("Jamie Lee Smith" finds "Jamie-Lee Smith"), with a possessive ("Amelia
    Hart's", reported without the "'s"), and across one line break. First name plus surname
    finds a registered name that has middle names, and a preferred name in brackets counts as a
    first name ("Hart, Amelia (Millie)" is found as "Millie Hart"). Registers written
    "Hart, Amelia" or "HART Amelia" are read surname last. Not reported after a title ("Mrs
    Amelia Hart" is an adult who shares the name), nor in all lower-case text whose first name
    is an ordinary word ("may green" in "the leaves may green").

``pupil_first_name``
    A registered pupil's first name on its own: weaker, but a first name with the school's name
    and a photo can still identify a child. Counted only when capitalised ("grace" is never a
    name); never straight after a title or "Team", "House", "Class" ("Miss Amelia" is a nursery
    teacher, "Team Ruby" a team) or after "the"/"a"; never when the next word makes it a thing
    ("Holly Class", "Summer term", "Grace period", "Rose Garden", "Poppy Appeal"), unless it is
    possessive ("Amelia's class" is a child's class); never inside a known phrase or famous name
    ("Jack Frost", "Star of the Week", "Grace Darling") or a name something is named after
    ("Oliver Goldsmith Primary School"). In ALL CAPS it still counts ("WELL DONE AMELIA"),
    unless it is also an ordinary word. A first name that is also an ordinary word (Grace, Will,
    May, Summer, Rose, Holly, Kit, Carol... and any name of one or two letters, like "An") is in
    addition not counted at the start of a sentence or line, after "this"/"our"/"every"... or
    an ALL CAPS word ("PE Kit"), in ALL CAPS, in a Title Case heading ("Summer Fair Dates"), or,
    for values such as Hope and Faith, in a sentence about a school's values. Months and seasons
    are not counted in a date ("12 May", "in May", "May 2025", "Summer 2").

``full_name``
    Someone's full name whether or not the register lists them, or when no register has been
    imported: a capitalised common given name (``GIVEN_NAMES``, a few hundred names common in
    England, written for this module) followed by one or two capitalised words that look like a
    surname ("Oliver Bennett", "Lily-Mae van Dijk", "Oliver James Bennett"). A word does not
    look like a surname if it is an ordinary or school word ("Class", "Please"), a month, day,
    festival or place in a short list ("London"), a single letter ("Oliver B", the initial that
    schools use as a safe form) or in ALL CAPS. Not reported after a title, "Team" or "House",
    or "the"/"a"; when the next word shows something named after a person ("Oliver Goldsmith
    Primary School"); on famous people and characters school posts mention ("Harry Potter",
    "Florence Nightingale"); nor when the given name is a word-name read as a word, as above,
    except that two capitalised words at the start of a sentence are still taken as a name
    ("Lily Chen won"), unless the first is "Will" or "May" ("Will Oakfield parents...").

Adults are skipped, not reported: a title (Mr, Mrs, Miss, Ms, Mx, Dr, Sir, Rev...), a family
word ("her mum Sarah") or an adult role ("our headteacher Sarah Jones", "our MP, Sarah Jones")
before a name means an adult, whom this part of the policy does not protect, and a warning on
every "Thank you Mrs Smith" would teach staff to ignore the checker. "Master" is not a title here,
nor "Captain" or "Head", which in a school are usually pupils' roles ("Head Girl").

Findings never overlap: a register full name wins over a heuristic full name, which wins over a
first name inside it. Known misses, by design: a registered word-name at the start of a sentence
("Grace scored twice."), nicknames the register does not list (Will for William), surnames alone
("the Hart family"), names run together in hashtags, handles and e-mail addresses ("#AmeliaHart"),
single first names of pupils not in the register, unregistered full names in ALL CAPS, surnames
that are also school or place words ("Noah Park", "Lily English"), and a word-name followed by a
surname that is also a thing ("Grace Hall"). Known false alarms: adults named without a title or
role ("Sarah Jones from the council"), famous people and characters missing from the short list
below, and a registered first name that belongs to someone else ("George at the garden centre").
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Literal

__all__ = ["GIVEN_NAMES", "WORD_NAMES", "NameFinding", "NameKind", "scan_post_text"]

NameKind = Literal["pupil", "pupil_first_name", "full_name"]


@dataclass(frozen=True)
class NameFinding:
    """One name found in a post, located exactly so a client can highlight it.

    ``text`` is ``post[start:end]``; a possessive "'s" is left outside the span so what is
    highlighted is the name itself. ``pupil`` is the consent register's entry as written there
    (several entries joined with "; " when pupils share the matched name) and ``None`` for
    ``full_name`` findings, which do not come from the register.
    """

    text: str
    start: int
    end: int
    kind: NameKind
    pupil: str | None
    message: str


# --- Word lists ----------------------------------------------------------------------------------
#
# Every list is written in lower case without accents or apostrophes, the form `_fold` gives.


def _word_set(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


GIVEN_NAMES: Final[frozenset[str]] = _word_set(
    # Boys' names given in England over the last few decades, and names of adults pupils meet.
    "oliver george harry jack noah leo arthur muhammad mohammed mohammad mohamed oscar charlie",
    "jacob thomas henry william alfie joshua freddie archie theo isaac theodore finley teddy",
    "lucas ethan alexander max edward adam joseph james samuel daniel logan sebastian tommy",
    "reggie hugo albie elijah mason harrison dylan jude rory louie frankie jaxon ronnie toby",
    "jenson benjamin hunter reuben albert ezra louis riley jayden tyler kai luca rowan ollie",
    "bobby elliot elliott michael matthew david luke ryan ben nathan callum jordan cameron",
    "connor conor liam lewis kieran jake jamie bradley aaron owen sam joe alex dominic patrick",
    "gabriel zachary caleb stanley sonny jasper felix otis ralph harvey jesse ellis carter",
    "blake cody kian jonah micah nathaniel aiden aidan sean declan finn cian ciaran niall rhys",
    "evan ewan euan angus hamish fraser alistair duncan robert richard john paul mark peter",
    "stephen steven andrew christopher anthony simon martin neil gary lee dean craig darren",
    "jason kevin ian graham philip tony wayne scott adrian carl shaun stuart colin keith brian",
    "barry frank frederick alfred ernest walter harold leonard wilfred edgar arlo milo otto",
    "rafe remy marcus tristan orlando caspar barnaby rupert hector ivan ned ted tom will billy",
    "danny jimmy johnny eddie charles harley brody grayson bodhi luka ashton morgan bailey",
    "jackson jensen kayden jayce tobias rafael nico enzo marco mateo leonardo matteo kyle",
    "ahmed ali omar yusuf yousef ibrahim zain zayn ayaan aryan arjun rohan ravi hassan hussain",
    "bilal hamza idris ismail musa rayan ilyas abdullah adnan imran kabir krish vihaan",
    "mustafa yahya malik tariq zakariya ayub amir aarav reyansh ishaan",
    "jakub kacper szymon filip mateusz antoni andrei alexandru",
    "tobi tomi chidi emeka kwame kofi abdi abdullahi",
    # Girls' names.
    "olivia amelia isla ava ivy freya lily florence mia willow rosie sophia isabella grace",
    "daisy sienna poppy elsie emily ella evelyn phoebe sofia evie charlotte harper millie",
    "matilda maya sophie alice emilia isabelle ruby luna maisie aria penelope mila bonnie eva",
    "hallie eliza ada violet esme arabella imogen jessica delilah thea lyla margot orla nancy",
    "layla aurora lola hannah ellie chloe lucy megan holly jasmine amber katie lauren bethany",
    "abigail georgia eleanor elizabeth lottie harriet beatrice iris edith mabel clara zara",
    "aisha fatima maryam mariam zainab amira hafsa khadija noor inaaya anaya aaliyah aleena",
    "hana safa sana amna priya aanya anika diya riya zuzanna julia maja natalia oliwia",
    "wiktoria lena hanna amelie maria ioana elena sara sarah laura emma rebecca rachel amy",
    "jennifer nicola claire kelly michelle lisa joanne victoria natalie samantha gemma",
    "stacey danielle kirsty jade leah shannon courtney jodie paige abbie abby caitlin niamh",
    "aoife ciara siobhan erin cerys ffion seren carys eilidh skye kayla tia keira kiera demi",
    "brooke libby lexi lacey summer autumn hope faith joy rose rosa heidi anna hazel eve",
    "tilly tillie nell nellie martha molly annabelle annie nina zoe zoey felicity frances",
    "francesca gabriella lydia madison naomi olive pippa rosalie serena sadie talia yasmin",
    "ayla aylin elif zeynep ayesha alisha mary margaret susan helen karen julie patricia",
    "linda elaine deborah catherine katherine kate jane joanna louise amanda hayley kerry",
    "donna tracey wendy ann anne june april may esther ruth miriam leila yara zahra ameera",
    "aminah chioma adaeze temi kemi ife ama abena hodan amal ayan ifrah mariana valentina",
    "heather scarlett everly aurelia ophelia rosalind rebekah kiara nevaeh macie maddison",
    "jessie frankie bella gracie kacey kacie lilly lillie mollie daisie evelyn hollie dawn ray",
)

# Given names that are also ordinary English words, or months and seasons. They are names only
# where nothing else explains the capital letter; see the module docstring.
WORD_NAMES: Final[frozenset[str]] = _word_set(
    "grace faith hope joy charity patience mercy honour honor summer autumn winter april may",
    "june august will mark bill pat rose lily daisy poppy holly ivy iris violet hazel heather",
    "jasmine willow rowan ruby amber jade pearl crystal olive sky river storm rain star robin",
    "wren jay drew miles jack frank rich sandy dawn eve ray sunny honey angel destiny harmony",
    "melody liberty trinity chase hunter mason archer cooper piper sage basil rocky penny",
    "ginger reign justice royal noble major earl duke brook dale glen heath clay forest ocean",
    "marina guy rod bob art don sue carol nick kit reed misty precious blessing gift favour",
    "peace happy noel christian unity lucky buddy max ash cherry cliff dean grant lance pierce",
    "rusty dusty sonny skip tab warren baker carter taylor fox bear wolf rex king prince",
)

# Months and seasons: also ignored in a date ("12 May", "in May", "May 2025", "Summer 2").
_DATE_NAMES: Final = _word_set(
    "january february march april may june july august september october november december",
    "spring summer autumn winter",
)
_DATE_PREPOSITIONS: Final = _word_set(
    "in during until till since by before after from through throughout last next this early",
    "late mid end of beginning start every each whole over",
)

# Words in front of a name that mean an adult, someone who is not a pupil, or a team's or house's
# name. Counted only when capitalised: "we will miss Amelia" names a child.
_TITLES: Final = _word_set(
    "mr mrs miss ms mx dr doctor prof professor sir dame lord lady rev revd reverend father fr",
    "sister canon bishop archbishop cardinal pope rabbi imam pastor vicar cllr councillor mayor",
    "coach judge king queen prince princess duke duchess earl st saint prophet guru officer pc",
    "sergeant sgt inspector",
    "team house class group",
)
# Titles written with a full stop ("Mr. Jones"); after any other word a full stop ends a
# sentence ("...in Oak House. Amelia won") and says nothing about the name that follows.
_ABBREVIATED_TITLES: Final = _word_set("mr mrs ms mx dr prof rev revd fr st cllr pc sgt")
# Family words and adult roles, counted in either case and before a comma too: "her mum
# Sarah", "our headteacher Sarah Jones", "our local MP, Sarah Jones". Not "Head" alone, since
# "Head Girl" and "Head Boy" are pupils, and not "Captain", usually a pupil's role in a school.
_ADULT_ROLES: Final = _word_set(
    "nan nana nanny nanna grandma granny gran grandad grandpa grandmother grandfather auntie",
    "aunty aunt uncle mum mummy mom dad daddy",
    "headteacher headmaster headmistress teacher principal governor governors chair chairman",
    "chairwoman caretaker bursar chef nurse mp mep author illustrator poet artist manager",
    "director ceo trustee trustees pcso firefighter paramedic conductor",
)
_ARTICLES: Final = _word_set("the a an")
# Before a word-name these make it a thing ("the Grace period", "this Summer", "Amazing Grace").
_DETERMINERS: Final = _word_set(
    "the a an this that these those our your their its every each next last whole entire",
    "amazing happy merry",
)
_PARTICLES: Final = _word_set(
    "van von de der den da di du del della le la al el bin ibn ter ten dos das",
)

# A first name followed by one of these is a thing, not a child: "Holly Class", "Summer term",
# "May half term", "Grace period", "Rose Garden", "Poppy Appeal", "Christian values".
_THING_WORDS: Final = _word_set(
    "term terms half holiday holidays hols break fair fayre fete festival camp ball party disco",
    "trip trips visit play production performance nativity service services assembly garden",
    "gardens day days week weeks weekend month night evening morning afternoon period challenge",
    "time celebration celebrations appeal sale market picnic walk run fun raffle tombola bake",
    "lunch dinner breakfast tea cafe club clubs workshop session sessions project topic display",
    "exhibition collection newsletter news update bulletin menu timetable dates calendar diary",
    "reading making scheme warning alert anniversary jubilee values union aid leaders community",
    "communities tree trees flower flowers bush wreath blossom bed beds leaf leaves sunshine",
    "solstice uniform kit programme program initiative fund funds foundation trust charity",
    "award awards cup trophy shield medal prize certificate badge league tournament match games",
    "olympics sports concert choir band orchestra ensemble singing singers songs carols school",
    "schools primary academy college nursery infant infants junior juniors class classes group",
    "groups team teams house houses room building block wing centre center library church",
    "chapel cathedral mosque temple park road street lane avenue close drive crescent grove",
    "lodge manor farm court estate ward memorial hall theatre studio stadium field fields ground",
    "square scholarship lecture station",
)

# Capitalised words that are not surnames: ordinary words that start sentences, lines and
# headings, school vocabulary, calendar words and a few places.
_ORDINARY_WORDS: Final = _word_set(
    "a an the and or but nor so yet to of in on at for with from by about into onto over under",
    "after before during since until till as than then there here this that these those it its",
    "we us our ours you your yours they them their he him his she her hers i me my who whom",
    "whose which what when where why how all any some every each both either neither no not yes",
    "also too very just only even still again more most much many few lots lot other another",
    "such own same is are was were be been being am has have had having do does did done doing",
    "will would can could shall should may might must please thank thanks thankyou well",
    "congratulations congrats huge big massive great good amazing fantastic brilliant wonderful",
    "super superb excellent outstanding fabulous lovely proud happy merry new old first second",
    "third last next best better special welcome hello hi dear goodbye farewell today tomorrow",
    "yesterday tonight now soon later always never everyone everybody someone anyone nobody",
    "nothing something everything remember reminder reminders note notice dont let lets look",
    "join come see find check bring wear book keep take make get got go went came won win wins",
    "winning scored played took said says enjoyed visited made showed shared received achieved",
    "completed finished started performed represented competed raised helped worked joined",
    "celebrated learned learnt wrote read sang danced ran swam together kind regards love",
    "sincerely wishes best warm warmest many",
)
_SCHOOL_WORDS: Final = _word_set(
    "year years reception nursery class classes form group set key stage ks team teams house",
    "houses school schools primary secondary infant infants junior juniors academy college sixth",
    "trust federation pta pupil pupils student students children child kids parents parent",
    "carers carer families family staff teacher teachers head headteacher deputy governors",
    "governor office council captain captains prefect prefects ambassador ambassadors leader",
    "leaders monitor monitors helper helpers champion champions winner winners runner runners",
    "award awards certificate certificates trophy cup medal medals prize prizes star stars",
    "points merit merits badge badges assembly worship mass service lunch dinner breakfast club",
    "clubs homework reading writing maths math science history geography art music pe",
    "re computing spanish german drama dance phonics spelling spellings design technology",
    "football netball rugby cricket hockey tennis swimming athletics gymnastics rounders",
    "basketball badminton judo karate sports sport games olympics fixtures match matches",
    "tournament league festival gala competition quiz results result score scores final finals",
    "semi photos photo pictures picture video gallery attendance uniform information info news",
    "update updates menu dates date diary notes trip visit ark",
)
_CALENDAR_WORDS: Final = _word_set(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs",
    "fri sat sun jan feb mar apr jun jul aug sep sept oct nov dec",
    "january february march april may june july august september october november december",
    "spring summer autumn winter christmas xmas easter halloween diwali eid ramadan hanukkah",
    "chanukah vaisakhi holi passover advent lent pentecost harvest bonfire valentine valentines",
    "pancake shrove whitsun midsummer",
)
_PLACES: Final = _word_set(
    "london manchester birmingham leeds liverpool bristol sheffield newcastle nottingham",
    "leicester coventry bradford york oxford cambridge brighton blackpool southampton portsmouth",
    "plymouth norwich exeter bath derby stoke hull sunderland luton wolverhampton cardiff",
    "swansea edinburgh glasgow belfast dublin paris france spain italy germany europe england",
    "wales scotland ireland britain africa asia america australia india pakistan bangladesh",
    "poland china japan nigeria kenya ghana somalia jamaica kent surrey essex sussex devon",
    "cornwall yorkshire lancashire cumbria wembley thames severn snowdon snowdonia coast beach",
    "seaside zoo museum aquarium castle palace abbey cinema",
)
# Words for things that are also surnames ("Grace Hall", "Noah Park", "Doris Day"): a surname
# after most given names, but a thing after a word-name ("Summer Ball", "Poppy Day").
_SURNAME_THINGS: Final = _word_set(
    "hall court field fields lane ward church temple bush ball day camp lodge street close",
    "grove chapel market band sale wing block ground farm fair cup walk garden gardens",
)
_NOT_SURNAMES: Final = (
    _ORDINARY_WORDS | _SCHOOL_WORDS | _CALENDAR_WORDS | _PLACES | (_THING_WORDS - _SURNAME_THINGS)
)
_NOT_SURNAMES_AFTER_WORD_NAME: Final = _NOT_SURNAMES | _THING_WORDS
# After a full name, these make it something named after a person: "Oliver Goldsmith Primary".
_NAMED_AFTER: Final = _word_set(
    "school primary academy college nursery infants infant juniors junior house class building",
    "centre center library hall room wing block ward trust foundation memorial award awards",
    "trophy cup prize shield medal scholarship fund lecture theatre studio garden gardens park",
    "field fields stadium ground road street lane avenue close drive way court square",
)
# Values church and community schools teach and write with capitals: "our values this term are
# Hope and Faith". A value-name in a sentence with another value, or the word "values", is the
# value, not the pupil.
_VALUES: Final = _word_set(
    "hope faith joy grace charity patience mercy honour honor peace justice unity trinity liberty",
    "harmony love respect kindness courage friendship trust forgiveness compassion perseverance",
    "resilience honesty responsibility thankfulness generosity wisdom creativity curiosity",
    "community excellence aspiration ambition teamwork equality tolerance democracy koinonia",
)
_VALUE_MARKERS: Final = _word_set("value values virtue virtues")
# Never counted as capitalised words in a Title Case heading check.
_MINOR_WORDS: Final = _word_set(
    "a an the and or but nor of to in on at for with from by as up off per via vs is are be",
    "your our my its",
)


# Well-known people, characters and fixed phrases school posts mention. A first name or a
# heuristic full name inside one of these is not reported; the register still is.
def _phrase_list(*lines: str) -> tuple[str, ...]:
    return tuple(phrase.strip() for phrase in " ".join(lines).split("/"))


_NOT_PEOPLE: Final = _phrase_list(
    "star of the week / star of the day / star of the month / union jack / jack frost /",
    "jack and the beanstalk / jack horner / father christmas / santa claus /",
    "mother christmas / the holly and the ivy / the first noel / amazing grace /",
    "saving grace / tudor rose / english rose / mary rose / red rose / white rose /",
    "guy fawkes / robin hood / peter pan / peter rabbit / harry potter / hermione granger /",
    "ron weasley / oliver twist / willy wonka / charlie bucket / matilda wormwood /",
    "mary poppins / tom gates / tom thumb / tracy beaker / percy jackson / greg heffley /",
    "noah's ark / grace darling / florence nightingale / mary seacole / amelia earhart /",
    "neil armstrong / tim peake / helen sharman / isaac newton / albert einstein /",
    "charles darwin / mary anning / marie curie / rosa parks / martin luther king /",
    "nelson mandela / walter tull / emmeline pankhurst / winston churchill / anne frank /",
    "elizabeth fry / george stephenson / isambard kingdom brunel / samuel pepys /",
    "christopher columbus / vincent van gogh / pablo picasso / claude monet / frida kahlo /",
    "leonardo da vinci / georgia o'keeffe / william morris / andy goldsworthy /",
    "quentin blake / roald dahl / julia donaldson / axel scheffler / david walliams /",
    "michael morpurgo / jacqueline wilson / anthony browne / oliver jeffers /",
    "lauren child / eric carle / judith kerr / shirley hughes / michael rosen /",
    "cressida cowell / jeff kinney / liz pichon / beatrix potter / lewis carroll /",
    "charles dickens / william shakespeare / jane austen / enid blyton / tom fletcher /",
    "marcus rashford / harry kane / jude bellingham / bukayo saka / leah williamson /",
    "chloe kelly / alessia russo / mary earps / lucy bronze / emma raducanu / andy murray /",
    "lewis hamilton / mo farah / jessica ennis / tom daley / ellie simmonds / joe wicks /",
    "david attenborough / greta thunberg / malala yousafzai / taylor swift / ed sheeran /",
    "christian aid / aston villa / crystal palace / john lewis / mary magdalene",
)

# --- Reading the text ----------------------------------------------------------------------------

_LETTER: Final = r"[^\W\d_]"
# Combining marks belong to the letter before them, so decomposed "Zoe\u0308" is one word.
_MARK: Final = r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
_APOSTROPHES: Final = "'\u2019\u2018\u02bc"
# A run of letters, with apostrophes inside it ("O'Neill", "Amelia's"); hyphens separate atoms.
_ATOM_RE: Final = re.compile(
    rf"{_LETTER}(?:{_LETTER}|{_MARK})*(?:[{_APOSTROPHES}]{_LETTER}(?:{_LETTER}|{_MARK})*)*"
)
_HYPHEN_GAP_RE: Final = re.compile(r"[-\u2010\u2011](?:[^\S\n]*\n[^\S\n]*)?")
_SPACE_GAP_RE: Final = re.compile(r"[^\S\n]+")
_NEWLINE_GAP_RE: Final = re.compile(r"[^\S\n]*\n[^\S\n]*")
_ABBREVIATION_GAP_RE: Final = re.compile(r"\.?[^\S\n]*(?:\n[^\S\n]*)?")
_APPOSITION_GAP_RE: Final = re.compile(r",?[^\S\n]*(?:\n[^\S\n]*)?")
_BRACKETED_RE: Final = re.compile(r"\(([^)]*)\)")
_NUMBER_BEFORE_RE: Final = re.compile(r"\d(?:st|nd|rd|th)?(?:\s+of)?[\s,]*$", re.IGNORECASE)
_NUMBER_AFTER_RE: Final = re.compile(r"[^\S\n]*,?[^\S\n]*\d")
_SENTENCE_ENDS: Final = ".!?\u2026"
_BULLETS: Final = "*>-\u2013\u2014\u2022\u00b7\u25aa\u25cf\u25e6\u2023"
# Skipped when looking back for the start of a sentence: spaces, quotes, brackets, bullets.
_TRANSPARENT: Final = " \t\r\u00a0\u202f" + "\"'\u201c\u2018\u2019\u201d([{\u00ab" + _BULLETS
_GREETING_RE: Final = re.compile(
    r"(?:dear|hello|hi|hey|good (?:morning|afternoon|evening))\b", re.I
)
_SPECIAL_LETTERS: Final = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "\u0131": "i",
        "þ": "th",
        "Þ": "th",
        "ð": "d",
        "Ð": "d",
    }
)
_APOSTROPHE_REMOVAL: Final = str.maketrans("", "", _APOSTROPHES)


@functools.lru_cache(maxsize=8192)
def _fold(word: str) -> str:
    """The form words are compared in: no accents, no apostrophes, case folded.

    Cached because the same few thousand names and words come back in every post and register.
    """
    if word.isascii():
        return word.lower().replace("'", "")
    decomposed = unicodedata.normalize("NFKD", word.translate(_SPECIAL_LETTERS))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().translate(_APOSTROPHE_REMOVAL)


class _Gap(IntEnum):
    """What separates an atom from the one before it, which decides what may join them."""

    HYPHEN = 0  # same word: "Jamie-Lee", also "Jamie-" at a line end then "Lee"
    SPACE = 1
    NEWLINE = 2  # one line break: a name may be wrapped, a paragraph break ends it
    BREAK = 3  # punctuation, digits, a blank line, or the start of the text


@dataclass(frozen=True, slots=True)
class _Atom:
    """A run of letters in the post with everything the rules ask about it."""

    start: int
    end: int
    key: str  # folded, apostrophes removed
    base: str  # key without a possessive "'s"
    base_end: int  # end without a possessive "'s"
    capitalised: bool
    all_caps: bool
    gap: _Gap

    @property
    def possessive(self) -> bool:
        return self.base_end != self.end


def _possessive(raw: str) -> bool:
    """Whether a word ends in an apostrophe and "s" ("Amelia's", straight or curly).

    "James'" never gets here: a word only includes apostrophes that have letters after them.
    """
    return len(raw) > 2 and raw[-1] in "sS" and raw[-2] in _APOSTROPHES


def _gap(between: str) -> _Gap:
    if between == " ":
        return _Gap.SPACE  # by far the commonest, so it skips the regular expressions
    if _HYPHEN_GAP_RE.fullmatch(between):
        return _Gap.HYPHEN
    if _SPACE_GAP_RE.fullmatch(between):
        return _Gap.SPACE
    if _NEWLINE_GAP_RE.fullmatch(between):
        return _Gap.NEWLINE
    return _Gap.BREAK


def _read_atoms(text: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    previous_end: int | None = None
    for match in _ATOM_RE.finditer(text):
        raw = match.group()
        start, end = match.span()
        key = _fold(raw)
        base, base_end = key, end
        if _possessive(raw):
            base, base_end = _fold(raw[:-2]), end - 2
        atoms.append(
            _Atom(
                start=start,
                end=end,
                key=key,
                base=base,
                base_end=base_end,
                capitalised=raw[0].isupper(),
                all_caps=len(raw) > 1 and raw.isupper(),
                gap=_Gap.BREAK if previous_end is None else _gap(text[previous_end:start]),
            )
        )
        previous_end = end
    return atoms


# --- Phrase tables -------------------------------------------------------------------------------


def _phrase_keys(phrase: str) -> tuple[str, ...]:
    """A phrase as folded atoms, possessives dropped, hyphens and spaces alike."""
    keys = []
    for match in _ATOM_RE.finditer(phrase):
        raw = match.group()
        if _possessive(raw):
            raw = raw[:-2]
        keys.append(_fold(raw))
    return tuple(keys)


_NOT_PEOPLE_KEYS: Final = frozenset(_phrase_keys(phrase) for phrase in _NOT_PEOPLE)
_NOT_PEOPLE_FIRST: Final = frozenset(keys[0] for keys in _NOT_PEOPLE_KEYS)
_NOT_PEOPLE_LONGEST: Final = max(len(keys) for keys in _NOT_PEOPLE_KEYS)


@dataclass(frozen=True)
class _Register:
    """The consent register as lookups from folded atoms to the pupils they name.

    Built once per distinct register (see `_register_index`), so scanning costs one dictionary
    look-up per atom whose key starts some registered name, not one comparison per pupil.
    """

    full: dict[tuple[str, ...], tuple[str, ...]]
    first: dict[tuple[str, ...], tuple[str, ...]]
    starts: frozenset[str]
    longest: int


def _word_keys(word: str) -> list[str]:
    if word.isascii() and word.isalpha():
        return [word.lower()]  # nearly every word of a register, so it skips the regex
    return [key for key in map(_fold, _ATOM_RE.findall(word)) if key]


def _entry_words(entry: str) -> tuple[list[list[str]], list[list[str]]]:
    """A register entry as its words (each a list of folded atoms) and its preferred names.

    Registers come out of school systems as "Amelia Hart", "Hart, Amelia", "HART Amelia" or
    "Hart, Amelia (Millie)", so all of those are read as forenames then surname.
    """
    preferred: list[str] = []
    plain = entry
    if "(" in entry:
        preferred = _BRACKETED_RE.findall(entry)
        plain = _BRACKETED_RE.sub(" ", entry)
    if "," in plain:
        surname, _, forenames = plain.partition(",")
        words = forenames.split() + surname.split()
    else:
        words = plain.split()
        leading_caps = 0
        for word in words:
            if len(word) > 1 and word.isupper():
                leading_caps += 1
            else:
                break
        if 0 < leading_caps < len(words):
            words = words[leading_caps:] + words[:leading_caps]
    folded = [atoms for atoms in map(_word_keys, words) if atoms]
    nicknames = [atoms for atoms in map(_word_keys, preferred) if atoms]
    return folded, nicknames


_Keys = tuple[str, ...]


@functools.lru_cache(maxsize=32768)
def _entry_variants(shown: str) -> tuple[tuple[_Keys, ...], tuple[_Keys, ...]]:
    """The atom sequences that name one register entry in full, and as a first name.

    In full: every name in order, and first name plus surname, so "Amelia Rose Hart" is found
    as "Amelia Hart" too. As a first name: the first forename and any preferred name. Cached per
    entry, so a register that changed by one pupil is re-indexed at little cost.
    """
    words, nicknames = _entry_words(shown)
    if not words:
        return (), ()
    firsts = [tuple(words[0]), *(tuple(nickname) for nickname in nicknames)]
    if len(words) == 1:
        return (), tuple(firsts)
    surname = tuple(words[-1])
    full = {tuple(key for word in words for key in word)}
    full.update(given + surname for given in firsts)
    return tuple(full), tuple(firsts)


@functools.lru_cache(maxsize=16)
def _register_index(pupils: tuple[str, ...]) -> _Register:
    full: dict[_Keys, list[str]] = {}
    first: dict[_Keys, list[str]] = {}
    for entry in pupils:
        shown = " ".join(entry.split())
        full_variants, first_variants = _entry_variants(shown)
        for table, variants in ((full, full_variants), (first, first_variants)):
            for keys in variants:
                names = table.setdefault(keys, [])
                if shown not in names:
                    names.append(shown)
    tables = (full, first)
    return _Register(
        full={keys: tuple(names) for keys, names in full.items()},
        first={keys: tuple(names) for keys, names in first.items()},
        starts=frozenset(keys[0] for table in tables for keys in table),
        longest=max((len(keys) for table in tables for keys in table), default=0),
    )


_EMPTY_REGISTER: Final = _Register({}, {}, frozenset(), 0)


# --- The scan ------------------------------------------------------------------------------------

_PRIORITY: Final[dict[NameKind, int]] = {"pupil": 0, "full_name": 1, "pupil_first_name": 2}


class _Scan:
    """One post being scanned: its atoms and the context questions the rules ask of them."""

    def __init__(self, text: str, register: _Register) -> None:
        self.text = text
        self.register = register
        self.atoms = _read_atoms(text)
        self.starts = [atom.start for atom in self.atoms]
        self.not_people = self._cover_not_people()
        self._title_case_lines: dict[int, bool] = {}
        # Atoms of names that something is named after ("Oliver Goldsmith Primary School"),
        # filled by the heuristic so that the first name in them is not reported either.
        self.named_after: set[int] = set()

    # Context ------------------------------------------------------------------------------------

    def _cover_not_people(self) -> set[int]:
        covered: set[int] = set()
        atoms = self.atoms
        for i, atom in enumerate(atoms):
            if atom.base not in _NOT_PEOPLE_FIRST:
                continue
            for length in range(2, min(_NOT_PEOPLE_LONGEST, len(atoms) - i) + 1):
                if atoms[i + length - 1].gap == _Gap.BREAK:
                    break
                if tuple(a.base for a in atoms[i : i + length]) in _NOT_PEOPLE_KEYS:
                    covered.update(range(i, i + length))
        return covered

    def previous_word(self, i: int) -> _Atom | None:
        """The atom just before atom ``i`` in the same sentence, if it is a separate word."""
        if i == 0 or self.atoms[i].gap not in (_Gap.SPACE, _Gap.NEWLINE):
            return None
        return self.atoms[i - 1]

    def next_word(self, j: int) -> _Atom | None:
        """The atom just after atom ``j`` in the same sentence, if it is a separate word."""
        if j + 1 >= len(self.atoms) or self.atoms[j + 1].gap not in (_Gap.SPACE, _Gap.NEWLINE):
            return None
        return self.atoms[j + 1]

    def after_title(self, i: int) -> bool:
        """Whether atom ``i`` follows "Mrs", "Dr.", "Team", "grandma", "our MP," and the like."""
        if i == 0:
            return False
        before = self.atoms[i - 1]
        gap = self.text[before.end : self.atoms[i].start]
        if before.key in _ADULT_ROLES:
            return bool(_APPOSITION_GAP_RE.fullmatch(gap))
        if before.key not in _TITLES or not before.capitalised:
            return False
        if before.key in _ABBREVIATED_TITLES:
            return bool(_ABBREVIATION_GAP_RE.fullmatch(gap))
        return self.atoms[i].gap in (_Gap.SPACE, _Gap.NEWLINE)

    def sentence_start(self, i: int) -> bool:
        """Whether atom ``i`` starts a sentence, a line item, or the text.

        A line break counts as a new start unless the line before ends mid-sentence (a lower
        case letter or a comma), so a name wrapped onto the next line is still mid-sentence;
        but a line after a list item or a greeting ("Dear Parents and Carers,") is a new start.
        """
        text = self.text
        j = self.atoms[i].start - 1
        while j >= 0 and self._transparent(text[j]):
            j -= 1
        if j < 0 or text[j] in _SENTENCE_ENDS:
            return True
        if text[j] != "\n":
            return False
        k = j - 1
        while k >= 0 and text[k] in " \t\r\u00a0":
            k -= 1
        if k < 0 or not (text[k].islower() or text[k] in ",&"):
            return True
        line = text[text.rfind("\n", 0, k) + 1 : k + 1].lstrip()
        return line[:1] in _BULLETS or bool(_GREETING_RE.match(line))

    @staticmethod
    def _transparent(char: str) -> bool:
        if char in _TRANSPARENT:
            return True
        # Emoji and other symbols at the start of a line do not make the word after them
        # mid-sentence ("🎉 Summer is here").
        return unicodedata.category(char) in ("So", "Sk", "Mn", "Cf") or char == "\ufe0f"

    def title_case_line(self, i: int) -> bool:
        """Whether atom ``i`` is in a Title Case heading such as "Summer Fair Dates".

        A line qualifies when it has at least two words that count (not "the", "for", "your"...),
        all of them capitalised, and at least one capitalised ordinary word after its first
        ("Fair", "Done", "Dates"), so that a line that is only a list of names is not taken
        for a heading.
        """
        text = self.text
        line_start = text.rfind("\n", 0, self.atoms[i].start) + 1
        cached = self._title_case_lines.get(line_start)
        if cached is not None:
            return cached
        line_end = text.find("\n", line_start)
        line_end = len(text) if line_end < 0 else line_end
        in_line = self.atoms[
            bisect.bisect_left(self.starts, line_start) : bisect.bisect_left(self.starts, line_end)
        ]
        counted = [a for a in in_line if a.key not in _MINOR_WORDS]
        capitalised = [a for a in counted if a.capitalised and not a.all_caps]
        ordinary = [
            a
            for a in capitalised
            if a is not in_line[0] and a.base in _NOT_SURNAMES and a.base not in GIVEN_NAMES
        ]
        result = len(counted) >= 2 and len(capitalised) == len(counted) and len(ordinary) >= 1
        self._title_case_lines[line_start] = result
        return result

    def in_date(self, i: int, j: int) -> bool:
        """Whether the month or season at atoms ``i``..``j`` is part of a date or a term."""
        before = self.previous_word(i)
        if before is not None and before.key in _DATE_PREPOSITIONS:
            return True
        if _NUMBER_BEFORE_RE.search(
            self.text, max(0, self.atoms[i].start - 12), self.atoms[i].start
        ):
            return True
        return bool(_NUMBER_AFTER_RE.match(self.text, self.atoms[j].end))

    def among_values(self, i: int) -> bool:
        """Whether atom ``i`` is one of a school's values, named in a sentence about values."""
        text = self.text
        position = self.atoms[i].start
        start = max(text.rfind(end, 0, position) for end in ".!?\n") + 1
        ends = [found for found in (text.find(end, position) for end in ".!?\n") if found >= 0]
        end = min(ends, default=len(text))
        first = bisect.bisect_left(self.starts, start)
        last = bisect.bisect_left(self.starts, end)
        for k in range(first, last):
            atom = self.atoms[k]
            if k == i:
                continue
            if atom.key in _VALUE_MARKERS or (atom.capitalised and atom.key in _VALUES):
                return True
        return False

    def is_word_name(self, key: str) -> bool:
        """Whether a first name is also an ordinary word, so its capital may not mean a name."""
        return key in WORD_NAMES or key in _ORDINARY_WORDS or len(key) <= 2

    def first_name_is_thing(self, i: int, j: int, *, heuristic: bool) -> bool:
        """Whether the first name at atoms ``i``..``j`` reads as a word or a thing, not a child.

        Shared by register first names and the given name of a heuristic full name; only the
        register side treats the start of a sentence as a reason, because two capitalised words
        at a sentence start still look like a name, while one could be any word.
        """
        first = self.atoms[i]
        last = self.atoms[j]
        if any(k in self.not_people for k in range(i, j + 1)) or self.after_title(i):
            return True
        before = self.previous_word(i)
        if before is not None and before.key in _ARTICLES:
            return True
        if not heuristic and not last.possessive:
            after = self.next_word(j)
            if after is not None and after.base in _THING_WORDS:
                return True
        if not self.is_word_name(first.key):
            return False
        if first.all_caps or self.title_case_line(i):
            return True
        if before is not None and (before.key in _DETERMINERS or before.all_caps):
            return True  # "the Grace period", "this Summer", "PE Kit"
        if first.key in _VALUES and self.among_values(i):
            return True
        if first.key in _DATE_NAMES and self.in_date(i, j):
            return True
        if heuristic:
            return first.key in ("will", "may") and self.sentence_start(i)
        return self.sentence_start(i)

    # Register -----------------------------------------------------------------------------------

    def register_findings(self) -> Iterator[NameFinding]:
        register = self.register
        atoms = self.atoms
        for i, atom in enumerate(atoms):
            if atom.gap == _Gap.HYPHEN:
                continue
            if atom.key not in register.starts and atom.base not in register.starts:
                continue
            for length in range(1, min(register.longest, len(atoms) - i) + 1):
                j = i + length - 1
                if length > 1 and atoms[j].gap == _Gap.BREAK:
                    break
                if j + 1 < len(atoms) and atoms[j + 1].gap == _Gap.HYPHEN:
                    continue  # "Jamie" inside "Jamie-Lee" is not Jamie
                keys = tuple(a.key for a in atoms[i : j + 1])
                yield from self._register_match(i, j, keys, atoms[j].end)
                if atoms[j].possessive:
                    keys = (*keys[:-1], atoms[j].base)
                    yield from self._register_match(i, j, keys, atoms[j].base_end)

    def _register_match(
        self, i: int, j: int, keys: tuple[str, ...], end: int
    ) -> Iterator[NameFinding]:
        start = self.atoms[i].start
        shown = self.text[start:end]
        full = self.register.full.get(keys)
        if full and self._accept_register_full(i, j):
            pupil = "; ".join(full)
            where = "from the consent register"
            if pupil != shown:
                where = f"{pupil}, from the consent register"
            yield NameFinding(
                shown,
                start,
                end,
                "pupil",
                pupil,
                f"“{shown}” is a pupil's full name ({where}). "
                "Pupils must not be named in posts on school accounts.",
            )
        first = self.register.first.get(keys)
        if first and self._accept_register_first(i, j):
            pupil = "; ".join(first)
            whose = (
                f"a pupil in the consent register ({pupil})"
                if len(first) == 1
                else f"{len(first)} pupils in the consent register ({pupil})"
            )
            yield NameFinding(
                shown,
                start,
                end,
                "pupil_first_name",
                pupil,
                f"“{shown}” is the first name of {whose}. With the school's name or a photo, "
                "a first name can be enough to identify a child.",
            )

    def _accept_register_full(self, i: int, j: int) -> bool:
        if self.after_title(i):
            return False
        span = self.atoms[i : j + 1]
        lower = not any(a.capitalised for a in span)
        return not (lower and self.is_word_name(span[0].key))

    def _accept_register_first(self, i: int, j: int) -> bool:
        if not self.atoms[i].capitalised or i in self.named_after:
            return False
        return not self.first_name_is_thing(i, j, heuristic=False)

    # Heuristic ----------------------------------------------------------------------------------

    def heuristic_findings(self) -> Iterator[NameFinding]:
        words = self._words()
        index = 0
        while index < len(words):
            found = self._full_name_at(words, index)
            if found is None:
                index += 1
                continue
            finding, used = found
            yield finding
            index += used

    def _words(self) -> list[tuple[int, int]]:
        """Atoms grouped into words: hyphenated names are one word ("Lily-Mae", "Hart-Jones")."""
        words: list[tuple[int, int]] = []
        for i, atom in enumerate(self.atoms):
            if words and atom.gap == _Gap.HYPHEN:
                words[-1] = (words[-1][0], i)
            else:
                words.append((i, i))
        return words

    def _joined(self, word: tuple[int, int]) -> bool:
        return self.atoms[word[0]].gap in (_Gap.SPACE, _Gap.NEWLINE)

    def _surname_like(self, word: tuple[int, int], *, after_word_name: bool = False) -> bool:
        first_i, last_i = word
        atom = self.atoms[first_i]
        if any(self.atoms[k].all_caps for k in range(first_i, last_i + 1)):
            return False
        if not atom.capitalised:
            if atom.key not in _PARTICLES or first_i == last_i:
                return False
            atom = self.atoms[first_i + 1]  # "al-Hassan"
            if not atom.capitalised:
                return False
        stoplist = _NOT_SURNAMES_AFTER_WORD_NAME if after_word_name else _NOT_SURNAMES
        return len(atom.base) >= 2 and atom.base not in stoplist

    def _full_name_at(
        self, words: list[tuple[int, int]], index: int
    ) -> tuple[NameFinding, int] | None:
        given = words[index]
        atom = self.atoms[given[0]]
        if atom.key not in GIVEN_NAMES or not atom.capitalised or atom.all_caps:
            return None
        if self.atoms[given[1]].possessive:
            return None
        if self.first_name_is_thing(given[0], given[0], heuristic=True):
            return None
        parts = [given]
        cursor = index + 1
        # Lower-case particles of a surname: "Lucas van Dijk", "Sofia de la Cruz".
        while (
            cursor < len(words)
            and self._joined(words[cursor])
            and self.atoms[words[cursor][0]].key in _PARTICLES
            and not self.atoms[words[cursor][0]].capitalised
            and words[cursor][0] == words[cursor][1]
        ):
            cursor += 1
        if cursor >= len(words) or not self._joined(words[cursor]):
            return None
        if not self._surname_like(words[cursor], after_word_name=self.is_word_name(atom.key)):
            return None
        if cursor > index + 1:
            parts.extend(words[index + 1 : cursor])
        parts.append(words[cursor])
        cursor += 1
        third_ok = (
            cursor < len(words)
            and not self.atoms[parts[-1][1]].possessive
            and self._joined(words[cursor])
            and self._surname_like(words[cursor])
            and self.atoms[words[cursor][0]].key not in GIVEN_NAMES
        )
        if third_ok:
            parts.append(words[cursor])
            cursor += 1
        first_i, last_i = parts[0][0], parts[-1][1]
        if any(k in self.not_people for k in range(first_i, last_i + 1)):
            return None
        last = self.atoms[last_i]
        after = self.next_word(last_i)
        if not last.possessive and after is not None and after.base in _NAMED_AFTER:
            self.named_after.update(range(first_i, last_i + 1))
            return None
        start, end = self.atoms[first_i].start, last.base_end
        shown = self.text[start:end]
        finding = NameFinding(
            shown,
            start,
            end,
            "full_name",
            None,
            f"“{shown}” looks like a person's full name. If it is a pupil's name, please take "
            "it out: pupils must not be named in posts on school accounts.",
        )
        return finding, cursor - index


def _without_overlaps(findings: list[NameFinding]) -> list[NameFinding]:
    """The strongest findings that do not overlap, in the order they appear in the post."""
    ranked = sorted(findings, key=lambda f: (_PRIORITY[f.kind], f.start - f.end, f.start))
    kept: list[NameFinding] = []
    for finding in ranked:
        if all(finding.end <= other.start or other.end <= finding.start for other in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def scan_post_text(text: str, pupils: Sequence[str] = ()) -> list[NameFinding]:
    """Names in a post's text that could identify a child, each explained for the author.

    ``pupils`` is the consent register's list of full names; without it only the full-name
    heuristic runs. The register's lookup tables are cached per distinct register, so scanning
    each draft of a post against the same register does not rebuild them.
    """
    register = _register_index(tuple(pupils)) if pupils else _EMPTY_REGISTER
    scan = _Scan(text, register)
    if not scan.atoms:
        return []
    heuristic = list(scan.heuristic_findings())  # first: it fills `named_after`
    findings = [*scan.register_findings(), *heuristic]
    return _without_overlaps(findings)
