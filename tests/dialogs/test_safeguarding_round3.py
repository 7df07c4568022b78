"""A third fresh round of worries about a child, and of policy questions that look alike.

Why: each earlier fresh set, run once against the recogniser, found only 40-68% of its
disclosures, so the recogniser was following sentences it had seen rather than kinds of
phrasing. This round is written away from the vocabulary of the other two files (other
relatives and carers, other verbs of harm, other places and platforms, county lines, care homes,
"prob nothing but", a parent telling you, something seen online) to measure that, and then to
hold the generalised recogniser to it.

First run, before any change (FIRST_* lists, one run of the recogniser as it stood):
- disclosures recognised by safeguarding_concern: 19/53 (36%)
- by safeguarding_concern or may_concern_a_child: 24/53 (45%)
- near misses wrongly recognised by safeguarding_concern: 4/49 (a parent calling the teacher
  a bully to her son; teaching grooming, sextortion and knife crime to a year group)

After generalising the signs to families of words (verbs of hurting in every tense, carers and
care homes, self-harm's acts and tools, what exploiters trade, hedged and reported worries),
and letting teaching a year group the topic go to the policy: 53/53 and 0/49.

Second fresh set (SECOND_* lists), written after that change and run once, before any further
change:
- disclosures recognised by safeguarding_concern: 8/25 (32%)
- by safeguarding_concern or may_concern_a_child: 10/25 (40%)
- near misses wrongly recognised by safeguarding_concern: 2/24 (police invited to talk to a
  year group about knife crime; a grandma who "keeps" commenting hearts on the school's posts)
So the first change had fitted the first set's words more than their kinds.

Fixed, again by kinds rather than sentences (a single injury anywhere on the body, being set
upon, euphemisms for ways to die, a quantity of pills, an adult getting a child alone at his own
place, watching a child dress, a people said to be a threat, being paid to move things, not
going home, "she'll" and "wed" for a marriage, who a child hides from rather than hiding posts,
a talk to a year group being teaching): 25/25 and 0/24, the first set still 53/53 and 0/49.
"""

from __future__ import annotations

import time

import pytest

from dialogs.services.safeguarding.concern import may_concern_a_child, safeguarding_concern
from tests.dialogs import test_safeguarding_concern, test_safeguarding_phrasings

FIRST_DISCLOSURES = [
    # physical harm, by whoever is at home
    "her mums partner grabbed her by the hair this morning and shes got a lump on her head",
    "prob nothing but y9 lad has marks on his neck again and went v quiet when i asked",
    "foster carer apparently pinches him when he gets stuff wrong, he told the TA",
    "yr3 girl said nanny whips her legs with a wire when shes naughty",
    "not sure if this is a thing but one of the y7s keeps turning up with a limp and wont change "
    "for PE",
    "mum emailed saying her daughter came home with bruising and wont say who did it",
    # sexual abuse
    "a girl in y8 said her mums partner gets into bed with her when mum is on nights",
    "reception boy drew his uncle doing something rude to him and said his bottom hurts",
    "one of the lads in my tutor group said older boys at the care home make him do things to them",
    "TA said a yr 5 told her that her cousin pulls her pants down when they play",
    # emotional harm
    "y6 boy says his gran tells him hes the devil and makes him kneel in the hall for hours",
    "pupil said her carer threatens to send her back if she doesnt behave and makes her eat on "
    "her own",
    # neglect
    "yr1 kid keeps coming in with yesterdays nappy still on and really smells",
    "y2 twins said there was no electric at home all weekend and they had cereal with water",
    "one of my kids has really bad teeth, hes in agony and mum keeps cancelling the dentist",
    "a yr 7 said shes been minding the baby overnight while her mum goes out",
    "pupil in foster care said her foster dad locks the fridge and she gets shouted at if she "
    "takes anything",
    # self-harm and suicide
    "heads up one of my y11s posted a goodbye on her story and isnt replying to anyone",
    "TA found a ligature in a year 10 boys bag",
    "y12 told her mate she took an overdose at the weekend and the mate told me",
    "kid in my tutor group has been scratching her arms with a compass in maths",
    "student wrote in her english book that everyone would be happier if she wasnt alive",
    "yr 8 lad searched how many paracetamol is too many on his chromebook",
    "one of my girls said shes been cutting again",
    "y10 girl has stopped having lunch and is throwing up in the loos after",
    "pupil said she stood on the bridge last night and thought about jumping",
    # sexual images, grooming, sextortion
    "year 8 girl is meeting someone she met on discord this weekend, he says hes 16 but sounds "
    "way older",
    "lad in y9 said someone asked for pics in exchange for vapes",
    "a girl in my form has a friend on snap who buys her stuff and says she cant tell anyone",
    "kid showed me an app where a bloke keeps asking her what colour her underwear is",
    "yr 7 girl got added to a group chat where men send her pics of their privates",
    "a boy in y10 is being told his pics will go to his family unless he sends more",
    "parent rang to say her daughter got sent a dick pic by a man off roblox",
    "a dad told me at pick up his son has been getting messages from a grown woman asking to meet",
    # exploitation, county lines, missing
    "one of my y10s keeps disappearing for days and comes back with train tickets to other cities",
    "y9 boy being made to carry stuff for older lads and owes them money",
    "yr 8 lad has 2 phones now and a new puffer jacket and gets picked up by older boys in cars",
    "one of our looked after kids keeps going awol from the care home and getting in taxis",
    "a girl in y11 is being passed round older guys at parties for free weed",
    "yr4 boy said his brothers mates make him fight other kids for money",
    "seen on insta one of our year 11s posing with a machete",
    # FGM, forced marriage, radicalisation
    "yr 6 girl said her aunty is coming over from sudan to do her cutting in the holidays",
    "y10 girl told me her engagement party is over half term and she doesnt want to marry him",
    "year 9 lad keeps saying the great replacement is real and wants to join a group he found on "
    "telegram",
    "student showed me a video of him making a pipe bomb in his shed",
    # an adult in school
    "prob nothing but the new TA is always alone with a yr 8 girl in the music room",
    "y10 girl said mr evans snapchats her at weekends and told her to delete them",
    "two kids told me the cover teacher put his hand on a yr 9 girls thigh in the lesson",
    "student said the netball coach gave her vodka on the away trip",
    # domestic abuse, and a parent telling you
    "one of my year 2s said mummy had to go to hospital because daddy pushed her down the stairs",
    "lad in my form said his mums new partner threw her phone at her and hes scared to leave "
    "her alone",
    "a parent told me her ex has been threatening to take their son and hurt him",
    "saw a tiktok where one of our yr 10s says she wants to die lol",
]

FIRST_NEAR_MISSES = [
    # pupils' photos and posts
    "can i put photos of yr 6 sports day on the school insta",
    "can we post about a pupils achievements at the county athletics",
    "can I share a photo of the kids on the residential in their pyjamas",
    "can I post the video of the year 9s doing the cutting and sticking in art",
    "is it ok to post a video of the yr 10 boxing club sparring",
    "what do I do if parents post photos of other kids from the nativity",
    "can I share a pupils drawing of her family on the school blog",
    "the y11 leavers want to make a tiktok with staff, is that allowed",
    "do I need consent to livestream the year 4 swimming gala",
    "the pta want to run a facebook page with pics of the kids, who approves it",
    "is it ok to post a photo of the year 5 boys football team on twitter with first names",
    "can students take photos of each other in drama for their coursework",
    "a student emailed me her poem about grief for the competition, can I post it",
    "a pupils parent sent me a video of their kid reading at home, can I show it in class",
    # messaging pupils
    "is it ok to dm a y10 about their missing homework on teams",
    "can I use whatsapp to contact the year 13s about their ucas deadlines",
    "can I have a separate teacher account on tiktok for science revision",
    "can i accept a follow request from a year 13 who turned 18 last week",
    "a pupils older sister added me on facebook, should I accept",
    # abuse aimed at the writer or the school
    "a parent has been slagging me off on fb and calling me a paedo, can I get it taken down",
    "a pupil put a post on tiktok saying Im the worst teacher ever, can I report it",
    "a parent said on facebook Im a bully to her son, can I respond",
    "a pupils mum keeps tagging me in complaints on the class page",
    "a dad is threatening to come into school and hit me, hes been messaging me on facebook",
    "a mum keeps sending me long messages at night about her sons hw, do I have to answer",
    "a pupil posted a pic of me asleep on the coach, can I ask them to take it down",
    "someone made a parody account of me and the kids are sharing it",
    "what should I do if I see a pupils post swearing about a teacher",
    "can I report a youtube video that a parent made about our headteacher",
    "who do I tell if a parent screenshots my private facebook and shares it round the playground",
    # blocking, reporting, ex-pupils
    "can I block a year 11 who keeps adding me on snap",
    "how do I report a fake account pretending to be the school",
    "an ex pupil sent me a friend request, shes 22 now, can I accept",
    "ex-student keeps messaging me on insta, he left 2 years ago, is it ok to reply",
    "a former pupil now 20 asked me out on tinder, is that allowed",
    "a year 8 keeps liking all my old photos, should I block her",
    "can I report a parents tiktok that mocks our school uniform",
    "is it ok to mute the class whatsapp, parents message at all hours",
    # teaching the topic
    "we are teaching online safety to year 5 next week, can I show them the ceop video on grooming",
    "we're doing a pshe unit on county lines, can I show them a youtube documentary",
    "can I share the nspcc pants rule video with reception parents",
    "our e-safety week assembly is about sextortion, can the slides go on the website",
    "can we film the year 7s anti knife crime drama for the website",
    # staff life
    "can I put a photo of the staff panto on my insta where im dressed as the wicked stepmother",
    "whats the rule on staff posting photos from a night out with colleagues",
    "i want to post a pic of my own daughter in her uniform, is that ok if she goes here",
    "can i follow our sixth form account from my personal insta",
    "can I share a link to a pupils charity bake sale on my linkedin",
    "can I post a photo of my class's help the homeless collection",
]


# A second fresh set, written after the change above and run once, to see whether it followed
# kinds of phrasing or only the first set's sentences.
SECOND_DISCLOSURES = [
    "stepgrandad keeps buying a y5 girl sweets and taking her to his caravan on her own",
    "kinship carer is drinking again and y3 boy was left with no tea and no one put him to bed",
    "a parent at the gate said her neighbours kid is being locked in the garden shed",
    "y12 lad showed me a razor he keeps in his pencil case, said it helps",
    "year 10 girl has been googling painless ways to go",
    "child in y1 came in with a burn shaped like an iron on her arm",
    "not sure if its anything but a yr 11 girl says her boyfriend is 24 and collects her in his "
    "bmw",
    "yr 9 lad told me a man at the chicken shop gives him free food and asked him to run errands "
    "for him",
    "a y8 said her older sisters bf films her when shes getting dressed",
    "pupil hinted that her step-grandfather makes her play a tickling game she hates",
    "a girl in 8R confided that her family say shell be sent to bangladesh to wed her cousin",
    "my y7 tutee has been reading stuff about how jews control everything and repeating it in form",
    "saw a post on a local fb group with one of our yr 10 boys being jumped and kicked on the "
    "floor",
    "a dinner lady told me a reception kid was eating out of the bin again",
    "the youth club leader has been inviting a y9 boy round to his flat to play xbox",
    "a y11 pupils been posting that nobody would miss her and she has a plan",
    "a parent phoned in worried her son is being paid in crypto by people on telegram to move "
    "packages",
    "y6 girl whispered that her brothers friend touched her privates at the sleepover",
    "student in yr13 is pregnant and her partner stops her coming in and checks her phone",
    "lad in year 8 was sent a deepfake nude of himself and told to pay",
    "a year 4 boy said his dad makes him punch his little brother as a punishment",
    "mums new husband has moved in and the y2 twins have gone really withdrawn and wont go home",
    "a y10 said an influencer on tiktok dmd her offering a modelling job if she sends body shots",
    "kid in my class is always starving, wears sandals in the snow and hasnt got a coat",
    "one of my girls said shes going to take all her mums tablets tonight",
]

SECOND_NEAR_MISSES = [
    "can our school chaplain have a personal tiktok where pupils might find him",
    "a parent wants me to remove a picture of her son in his rugby kit from the newsletter",
    "is it ok to livestream the sixth form debate on youtube",
    "the year 8s want to run a charity instagram for the food bank, can I help",
    "a supply teacher asked if she can use her own phone to photograph work samples",
    "can I send a birthday message to a student on the school app",
    "a dad messaged me a screenshot of his daughters grades asking why they dropped",
    "a mum left an angry comment about lunch portions on the trust facebook, can I delete it",
    "a pupil dmd our department account asking for past papers, can we reply",
    "can I show a netflix clip about gangs in my sociology lesson",
    "we want to invite the police to talk to year 9 about knife crime, can we advertise it on "
    "socials",
    "a year 12 made a meme of me and the head and it went round the year group",
    "is it allowed to geotag the school in photos from the science fair",
    "a former student who is now a TA here wants to follow me on instagram",
    "a students grandma keeps commenting hearts on the school posts, should we hide them",
    "a parent posted a video of the year 4 play with a kid who has no photo consent, what now",
    "can I message a pupils foster carer on whatsapp about parents evening",
    "can we share the care leavers graduation photos on the website",
    "can I reply to a y11 who tweeted that my lesson was boring",
    "someone is impersonating our head on linkedin and messaging staff",
    "can we use pupils voices in a podcast about mental health week",
    "a kid posted his gcse art on reddit, can I comment on it",
    "can I tag a pupils mum in the sports day photo she asked for",
    "a yr 7 wants me to check out his youtube gaming channel, can I subscribe",
]


def test_there_are_enough_phrasings_of_each() -> None:
    assert len(set(FIRST_DISCLOSURES)) >= 40
    assert len(set(FIRST_NEAR_MISSES)) >= 40
    assert len(set(SECOND_DISCLOSURES)) >= 20
    assert len(set(SECOND_NEAR_MISSES)) >= 20


@pytest.mark.parametrize("text", FIRST_DISCLOSURES)
def test_a_fresh_worry_about_a_child_is_recognised(text: str) -> None:
    assert safeguarding_concern(text) is not None


@pytest.mark.parametrize("text", FIRST_NEAR_MISSES)
def test_a_fresh_policy_question_still_goes_to_the_policy(text: str) -> None:
    assert safeguarding_concern(text) is None, safeguarding_concern(text)


@pytest.mark.parametrize("text", SECOND_DISCLOSURES)
def test_a_second_fresh_worry_is_recognised(text: str) -> None:
    assert safeguarding_concern(text) is not None


@pytest.mark.parametrize("text", SECOND_NEAR_MISSES)
def test_a_second_fresh_policy_question_still_goes_to_the_policy(text: str) -> None:
    assert safeguarding_concern(text) is None, safeguarding_concern(text)


EVERY_DISCLOSURE = (
    test_safeguarding_concern.DISCLOSURES
    + test_safeguarding_phrasings.DISCLOSURES
    + FIRST_DISCLOSURES
)


@pytest.mark.parametrize("text", EVERY_DISCLOSURE)
def test_a_recognised_worry_is_also_read_as_one_that_could_be(text: str) -> None:
    """The wider reading must be wider in every direction: a question the intercept lets
    through and the search then answers is still marked as possibly a worry."""
    if safeguarding_concern(text) is not None:
        assert may_concern_a_child(text)


def test_a_long_question_is_read_in_linear_time() -> None:
    """13,000 characters, the longest a chat message gets: every phrasing in these lists run
    together, and one phrase repeated, which is where a pattern that backtracks would show."""
    mixed = " ".join(EVERY_DISCLOSURE + FIRST_NEAR_MISSES + SECOND_NEAR_MISSES)[:13_000]
    repeated = ("a pupil said her " * 800)[:13_000]
    for text, limit in ((mixed, 0.05), (repeated, 0.25)):
        start = time.perf_counter()
        safeguarding_concern(text)
        assert time.perf_counter() - start < limit
