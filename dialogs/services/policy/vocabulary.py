"""The words staff use and the words policies use, written down so search can bridge them.

Staff ask in their own words ("can I add a kid on insta?") and policies answer in theirs ("staff
must not accept follower requests from pupils"). Plain keyword search finds nothing in common
between those two sentences except "can". This module holds the word lists that
`policy_search` uses to close the gap, each a decision that can be read and argued with:

STOP_WORDS
    Words dropped from questions and from the policy before ranking: grammar ("the", "of"),
    question scaffolding ("what", "how", "allowed"), and the modal verbs every rule is written
    with ("must", "should", "may"), which say how strict a rule is, not what it is about.
    Negations ("not", "never") go too: nearly every clause is a prohibition, so they cannot tell
    one clause from another.

GENERIC_WORDS
    Words kept for ranking but never counted as evidence that the policy covers a question,
    because in a staff social media policy every clause is about them: "school", "staff",
    "policy", "social", "media", "online", and the names of the platforms. "Can I wear my
    Facebook T-shirt?" mentions Facebook, but a clause that mentions Facebook is no answer.

PARAPHRASES
    Groups of words that mean the same thing in this setting. A word staff say (`said`) adds the
    words policies write (`written`) to the question; a written word adds the other written words
    of its group, because policies differ among themselves too ("pupil" or "learner"). Added
    words count for less than the question's own words (`SearchOptions.expansion_weight`).
    Each group says why it exists. A paraphrase must be something staff could say instead of
    the policy's word; a loose association ("lesson" for "working hours") does more harm than
    good, because it makes questions about other things look covered.

IDIOMS, UNSTEMMED, WORD_FORMS
    Corrections to reading word by word: phrases that mean something else than their words,
    words the English stemmer would confuse with others, and irregular verb forms it cannot
    join to their verb.
"""

from __future__ import annotations

from dataclasses import dataclass


def _word_set(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


STOP_WORDS: frozenset[str] = _word_set(
    # grammar
    "a an the and or but nor so if then than that this these those there here of to in on at by",
    "for from with without into onto about as up down out off over under again further once",
    "it its itself i me my mine myself we us our ours ourselves you your yours yourself he him",
    "his himself she her hers herself they them their theirs themselves one ones",
    "is am are was were be been being have has had having do does did doing done",
    "very too just only also even still already yet really quite",
    "s t d ll m re ve don didn doesn isn aren wasn weren hasn haven hadn won wouldn shouldn",
    "couldn mustn cannot",
    # question scaffolding
    "what which who whom whose when where why how whether any anyone anything anybody some",
    "someone something somebody all every each other another such same",
    "ok okay fine allowed allow alright supposed meant able need needs want wants wanted",
    "please thanks hi hello hey get got go going gone let know think thing things stuff",
    "like lot lots bit actually ever help helps helping else whoever whatever whichever",
    # light words of conversation: when, how fast, coming and going, saying and putting
    "during before after afterwards now then first last next ago soon often across around",
    "came come comes coming went goes say says said put puts mean means happen happens",
    "happened sure okay right year years see saw seen notice noticed long quick quickly fast",
    "make makes made making",
    # chat register: contractions typed without their apostrophe, and fillers
    "dont im ive youre theyre shes hes thats whats whos isnt cant wont doesnt didnt wasnt arent",
    "havent shouldnt couldnt wouldnt lol tbh idk pls plz ur omg btw fyi imo ngl",
    # modal verbs: how strict a rule is, not what it is about
    "can could may might must shall should will would ought",
    # negations: nearly every clause is a prohibition
    "not no never none nothing nobody neither",
)

GENERIC_WORDS: frozenset[str] = _word_set(
    # every clause of a staff social media policy is about these
    "policy policies school schools academy trust staff member members social media online",
    "internet network networking site sites platform platforms use using used uses rule rules",
    "page pages",
    # platform names: a clause about social media in general is about each of them
    "facebook fb instagram insta ig tiktok twitter x whatsapp snapchat youtube linkedin",
    "threads bluesky reddit discord",
)

# The platforms among GENERIC_WORDS. A policy that names a platform somewhere has a rule about
# it ("excluding LinkedIn", "media sharing services, such as YouTube"), so in that policy the
# platform weighs like any other word in the ranking. It is still no evidence that a clause
# answers: "can I message pupils on WhatsApp?" is answered by the rule on messaging pupils,
# not by the clause that happens to name WhatsApp (counting it as evidence lost more questions
# of the older set than it won).
PLATFORM_NAMES: frozenset[str] = _word_set(
    "facebook fb instagram insta ig tiktok twitter x whatsapp snapchat youtube linkedin",
    "threads bluesky reddit discord",
)


@dataclass(frozen=True)
class Paraphrase:
    said: tuple[str, ...]  # how staff put it (words or short phrases)
    written: tuple[str, ...]  # how policies put it
    why: str


def _group(said: str, written: str, why: str) -> Paraphrase:
    """A group written as comma-separated phrases, which reads better than tuples of strings."""

    def phrases(text: str) -> tuple[str, ...]:
        return tuple(p.strip() for p in text.split(",") if p.strip())

    return Paraphrase(phrases(said), phrases(written), why)


PARAPHRASES: tuple[Paraphrase, ...] = (
    _group(
        "student, students, kid, kids, boy, boys, girl, girls, teenager, teenagers, son, "
        "daughter, yr, class, tutor group",
        "pupil, pupils, learner, learners, child, children, student, students, young people",
        "Staff say students and kids; English school policies say pupils, learners or children.",
    ),
    _group(
        "mum, mums, mom, moms, dad, dads, mother, father, family, families, guardian",
        "parent, parents, carer, carers, guardian, guardians, families",
        "Staff talk about a child's mum or dad; policies about parents and carers.",
    ),
    _group(
        "facebook, fb, instagram, insta, ig, tiktok, twitter, x, tweet, tweets, whatsapp, "
        "snapchat, youtube, linkedin, threads, bluesky",
        "social media, social networking, online",
        "Staff name the platform; most policies speak of social media in general.",
    ),
    _group(
        "boss, bosses, manager, line manager, hod, head, head of year, slt, senior leadership, "
        "principal, head teacher",
        "line manager, head of department, headteacher, senior leadership team, senior leaders",
        "Staff say their boss; policies name the role that decides (line manager, headteacher, "
        "senior leadership).",
    ),
    _group(
        "photo, photos, pic, pics, picture, pictures, selfie, selfies, snap, snaps",
        "image, images, photograph, photographs, photos, pictures, photographed",
        "Staff say photo or pic; policies say images or photographs.",
    ),
    _group(
        "video, videos, film, filming, clip, clips, footage, livestream",
        "video, recording, recordings, filmed",
        "Video is named in several ways, and rules on images often cover it.",
    ),
    _group(
        "friend, friends, friend request, follow, follow request, follows, add, befriend, connect",
        "friend request, friend, friends, follow, follower, followers, connecting, connections, "
        "connected",
        "'Add me' and 'follow me' are how staff describe what policies call connecting, or "
        "accepting friend and follower requests.",
    ),
    _group(
        "post, posts, posting, share, sharing, upload, uploading, put up, tweet, retweet, publish",
        "post, posting, postings, publish, published, share, upload, uploaded",
        "Posting, sharing, uploading and publishing are one act in staff's words and different "
        "verbs in policies.",
    ),
    _group(
        "dm, dms, pm, inbox, message, messages, messaged, text, texts, chat, chatting, rang, "
        "phoned, called, emailed",
        "message, messages, messaging, contact, contacted, discuss, conversation, conversations",
        "A DM, a chat or a text is what policies call a message or a communication.",
    ),
    _group(
        "coworker, coworkers, co-worker, workmate, workmates, colleague, colleagues",
        "colleague, colleagues, member of staff",
        "Workmates are colleagues, or members of staff.",
    ),
    _group(
        "slag, slagging, trash, trashing, badmouth, diss, rude, insult, insulting, criticise, "
        "criticize, nasty",
        "disparage, disparaging, defamatory, defame, derogatory, offensive, insults, abusive",
        "Staff speak of slagging someone off; policies of disparaging or defamatory content.",
    ),
    _group(
        "moan, moaning, vent, venting, rant, ranting, whinge, complain, complaining, complaints",
        "grievance, grievances, complaint, complaints, concerns",
        "Moaning about work is what policies call airing grievances or complaints.",
    ),
    _group(
        "troll, trolls, trolling, trolled, bully, bullying, bullied, harass, harassing, harassed, "
        "threat, threats, threatening",
        "abuse, abusive, cyberbullying, cyber bullying, bully, harassing, threatening, offensive",
        "Being trolled or bullied online is covered by rules on online abuse and cyberbullying.",
    ),
    _group(
        "journalist, journalists, reporter, reporters, press, newspaper, paper, journo, tv, radio",
        "journalist, journalists, media enquiries, press enquiries, enquiry, enquiries, inquiry",
        "Reporters and the local paper are journalists making media enquiries.",
    ),
    _group(
        "sacked, sack, dismissed, punished, trouble, disciplined, consequences, break the rules, "
        "breaking the rules, broke the rules, break the policy",
        "disciplinary, dismissal, breach, breaches",
        "Getting sacked or into trouble is disciplinary action for a breach.",
    ),
    _group(
        "lunch, lunchtime, free period, break, breaks, school day, working day, at work, "
        "during work, in work, school hours",
        "working hours, working time, breaks, school hours, work hours",
        "Lunch, a free period or the school day are what policies call working hours or time.",
    ),
    _group(
        "phone, phones, mobile, iphone, smartphone, ipad, tablet, laptop, camera",
        "device, devices, camera, cameras, equipment",
        "A phone or an iPad is what policies call a device.",
    ),
    _group(
        "screenshot, screenshots, screengrab, screen shot, screen grab, capture, keep, save",
        "screenshots, screen prints, evidence, save, saved",
        "Screenshots are how staff keep the evidence that policies ask them to save.",
    ),
    _group(
        "delete, remove, take down, taken down, get rid",
        "delete, deleted, remove, removed",
        "Taking something down is deleting or removing it.",
    ),
    _group(
        "police, cops, 999",
        "police",
        "So that 'the cops' finds the police.",
    ),
    _group(
        "sign off, signed off, approve, approval, check, checked, checking, ok it, go live",
        "approved, approval, confirmation",
        "Getting a post signed off or checked is approval or confirmation.",
    ),
    _group(
        "ask, asking, asked, permission, consent, agree, agreed",
        "permission, consent",
        "Doing something without asking someone is doing it without their permission or consent.",
    ),
    _group(
        "own, my own, profile, profiles",
        "personal, personal accounts, profiles",
        "'My own Instagram' is what policies call a personal account or profile.",
    ),
    _group(
        "logo, badge, crest, branding, brand",
        "logo, logos, branding, brand names, trademarks",
        "The school badge or crest is its logo or branding.",
    ),
    _group(
        "privacy, private, privacy settings, lock down",
        "security settings, privacy settings, privacy, private",
        "Privacy settings are what policies call security or privacy settings.",
    ),
    _group(
        "anonymous, anonymously, fake account, fake name, alias, burner",
        "anonymous, anonymously, alias",
        "Posting under a fake name is posting anonymously or under an alias.",
    ),
    _group(
        "set up, start, create, open, new account, launch",
        "create, creating, established, creation, set up",
        "Starting a new account is creating or establishing one.",
    ),
    _group(
        "reply, replies, answer, respond, get back",
        "respond, responded, acknowledge, acknowledged, response, reply",
        "Replying is what policies call responding or acknowledging.",
    ),
    _group(
        "job, employer, where i work, work at, work for, teach at",
        "employment, employer, employed",
        "Saying where you work is disclosing your employment.",
    ),
    _group(
        "keep an eye, watch, watching, spy, spying, snoop, snooping, track, read my, look at",
        "monitor, monitoring, monitored, review, intercept",
        "Keeping an eye on staff is monitoring.",
    ),
    _group(
        "credit, source, sources, who made",
        "cite, reference, acknowledge the author, copyright, sources",
        "Crediting someone's work is citing or acknowledging the source.",
    ),
    _group(
        "recommendation, recommend, endorse, endorsement, vouch",
        "references, reference",
        "A LinkedIn recommendation is a reference.",
    ),
    _group(
        "advertise, advert, sell, selling, promote, side business, side hustle, business",
        "personal gain",
        "Using an account to sell or advertise is using it for personal gain.",
    ),
    _group(
        "worried, concern, concerned, unsure, not sure",
        "concerns, concerned, uncertain",
        "Being worried or unsure is having a concern.",
    ),
    _group(
        "tell, tell someone, flag, report, grass",
        "report, reported, reporting, raise, raised",
        "Telling someone about a problem is reporting it.",
    ),
    _group(
        "embarrassing, compromising, dodgy, inappropriate, unsuitable, bad",
        "inappropriate, compromising, offensive, misconstrued",
        "Dodgy or embarrassing content is what policies call inappropriate or compromising.",
    ),
    _group(
        "mention, mentions, name, talk about, refer to, identify",
        "reference, refer, named, names, identifying",
        "Mentioning someone by name is making reference to them, or identifying them.",
    ),
    _group(
        "left, leaver, leavers, ex, former, old, used to",
        "former, past, previous",
        "A pupil who has left, or an old colleague, is what policies call former or past.",
    ),
    _group(
        "in charge, responsible, runs, oversees, owner",
        "responsible, responsibility, overall responsibility, day-to-day responsibility",
        "Asking who is in charge is asking who is responsible.",
    ),
    _group(
        "apply, applies, cover, covers, covered, include, includes, included",
        "applies, covers, scope, within the scope",
        "Asking whether the policy applies to someone is asking about its scope.",
    ),
    _group(
        "how quickly, how fast, how soon, how long, quickly, deadline, time limit",
        "within, hours, 24 hours, next working day",
        "Asking how quickly is asking for the time limit a policy sets.",
    ),
    _group(
        "accidentally, by accident, accident, by mistake, mistake",
        "inadvertently, mistakes",
        "Something done by accident is what policies call inadvertent.",
    ),
    _group(
        "count, counts, count as, counted, class as, classed as, definition, define, meant by",
        "defines, definition, defined",
        "Asking whether something counts as social media is asking how the policy defines it.",
    ),
    _group(
        "password manager, password managers, password, passwords, login, logins, log in, "
        "logged in, sign in, signed in",
        "passwords, password, logged in, account details",
        "A password manager is about passwords, not a manager; logging in is about account "
        "details.",
    ),
    _group(
        "apply for a job, applying for a job, applied for a job, job application, "
        "job applications, job interview, interview, new job, look me up, looked me up, "
        "google me, googled me, search for me",
        "recruitment, candidates, pre-employment checks, internet searches",
        "Being looked up when applying for a job is what policies call pre-employment checks "
        "in recruitment.",
    ),
    _group(
        "supply, supply teacher, supply teachers, temp, temps, cover staff",
        "agency, casual, temporary, contractors",
        "Supply and cover staff are what policies call agency, casual or temporary staff.",
    ),
)

# Phrases whose words mean something else together: "free period" is not about periods, and
# "keep an eye" not about eyes. Their words weigh little in the ranking (`idiom_weight`) and are
# no evidence that a clause is about the question; only what the idiom means is.
IDIOMS: frozenset[str] = frozenset(
    {
        "free period", "school day", "working day", "at work", "during work", "in work",
        "keep an eye", "read my", "look at", "take down", "taken down", "get rid", "put up",
        "sign off", "signed off", "ok it", "go live", "lock down", "get back", "where i work",
        "work at", "work for", "teach at", "who made", "not sure", "tell someone",
        "talk about", "refer to", "used to", "in charge", "how quickly", "how fast", "how soon",
        "how long", "time limit", "by accident", "by mistake", "count as", "class as",
        "classed as", "meant by", "break the rules", "breaking the rules", "broke the rules",
        "break the policy", "side hustle", "password manager", "password managers",
        "apply for a job", "applying for a job", "applied for a job", "look me up",
        "looked me up",
    }
)  # fmt: skip

# Words the stemmer would wrongly join to another: "settings" is not "set", "the following
# steps" have nothing to do with a follower, and a video recording is not "record a decision".
UNSTEMMED: frozenset[str] = frozenset(
    {
        "settings",
        "setting",
        "follower",
        "following",
        "acceptable",
        "unacceptable",
        "recording",
        "recordings",
        "reporter",
        "reporters",
    }
)

# Irregular forms the stemmer cannot join to their verb ("took" and "taken" are "take"), applied
# to questions and policies alike before stemming.
WORD_FORMS: dict[str, str] = {
    form: verb
    for verb, forms in {
        "take": "took taken",
        "follower": "followers",
        "send": "sent",
        "see": "saw seen",
        "write": "wrote written",
        "leave": "left",
        "make": "made",
        "give": "gave given",
        "tell": "told",
        "ring": "rang rung",
        "say": "said",
        "keep": "kept",
        "meet": "met",
        "find": "found",
        "speak": "spoke spoken",
        "bring": "brought",
        "buy": "bought",
        "hear": "heard",
        "know": "knew known",
        "show": "shown",
        "break": "broke broken",
        "choose": "chose chosen",
        "begin": "began begun",
        "run": "ran",
        "teach": "taught",
        "think": "thought",
    }.items()
    for form in forms.split()
}
