"""Worries about a child in the many ways staff put them, and policy questions that look alike.

A second set, written apart from tests/dialogs/test_safeguarding_concern.py, to check that the
recogniser follows the kinds of phrasing rather than particular sentences: each concern from
Keeping Children Safe in Education (physical, sexual and emotional abuse, neglect, self-harm
and suicidal thoughts, sexual images, grooming, sextortion, domestic abuse, a child missing or
in danger, FGM, forced marriage, radicalisation, and an adult in school behaving wrongly towards
a pupil), told the way it reaches a member of staff: reported speech ("she said her dad..."),
something shown ("a student showed me..."), a worry ("I'm worried about..."), and in chat
register (typos, "y9", "lad", "kid in my form").

The near misses are policy questions with the same words in them: pupils, photos, messages,
blocking, reporting, and abuse aimed at staff, which is the report's business, not the lead's.
"""

from __future__ import annotations

import pytest

from dialogs.services.safeguarding.concern import ConcernKind, safeguarding_concern

DISCLOSURES = [
    # physical abuse
    "y8 lad came in with a black eye and said his dad did it",
    "one of my tutees flinched when I moved and then said her mum smacks her with a belt",
    "student said his step mum throws things at him when shes been drinking",
    "kid in yr 4 told me daddy put his hands round his neck",
    "a boy in y7 was shaking and said his dad will kill him if he finds out about his report",
    "Y7 boy told me his mum's new fella hit him with a shoe",
    "kid's got fingertip bruising on his upper arms, says he fell",
    "pupil disclosed that her mum hits her with a wooden spoon",
    "I'm worried about a year 5, he's been really quiet and has burns on his hands",
    "a student said her boyfriend controls her phone and hits her if she talks to other boys",
    # sexual abuse
    "girl in my form said her mums boyfriend comes into her room at night",
    "a yr 10 told me her uncle makes her do stuff she doesnt want to",
    "a pupil told me a sixth former forced her to do things at a party",
    "one of my girls let slip that she's been sleeping with a 20 year old",
    "hi, one of my year 8s just told me her step-brother has been coming into the bathroom "
    "when she showers",
    "girl in 10B said her dad's mate keeps trying to get her alone",
    "a student told me her brother's friend raped her",
    "she told me her mum's boyfriend makes her sit on his lap and it makes her uncomfortable",
    "he said his uncle shows him videos of naked people",
    "kid in my class said her nan's boyfriend kisses her on the lips and tells her its their "
    "secret",
    "a year 10 told me she is pregnant and the dad is 25",
    "year 6 girl said an older boy at the park made her show him her knickers",
    # emotional abuse
    "kid in my class says his mum tells him every day she wishes he was never born",
    "a pupil told me her parents call her worthless and lock her out of the house",
    # neglect
    "one of my y4s has worn the same uniform for 2 weeks and says there's nothing to eat at home",
    "student keeps falling asleep, she said she looks after her little brothers all night "
    "because mum is never home",
    "yr 2 boy said no one came to get him yesterday and he walked home on his own in the dark",
    "one of my students keeps coming in hungry with no lunch, her mum hasn't been around for days",
    "a yr 4 girl keeps wetting herself and said she doesn't want to go home to her uncle's",
    "student hasnt been in school for 3 weeks and nobody answers the phone at home",
    # self-harm, suicidal thoughts, eating
    "a student told me she's been making herself sick after every meal",
    "y10 girl said she's got nothing to live for",
    "student confided she's been burning herself with a lighter",
    "y12 girl said she took a load of paracetamol last night",
    "lad in my tutor group said he doesnt see the point in living anymore",
    "one of the girls in my tutor group is self harming again, she showed me her arms",
    "girl in my form has been giving her things away and said she won't be around much longer",
    "pupil showed me scars on her legs and said she does it to feel something",
    "a lad in year 12 put a goodbye message on his story last night and isn't answering",
    "one of my students said everyone would be better off without him",
    "Im worried about a kid in my tutor group, he wrote in his planner that he hates his life "
    "and wants to disappear",
    # sexual images and sexting
    "a year 9 boy showed me a pic of a naked girl from another school that's going round",
    "a kid airdropped a nude to everyone on the coach",
    "student admitted she sent a topless selfie to a lad in yr 11",
    "there's a video of a year 10 girl doing sexual stuff going round on snap",
    # grooming, an adult or stranger contacting a child online
    "a pupil told me a guy she plays fortnite with sends her gift cards and wants to meet up",
    "one of my yr 6s has a friend on tiktok who told her to delete all their chats",
    "a girl in my class said someone on insta keeps asking for pics of her in her uniform",
    "he said a man from discord sent him money and wants to video call him on his own",
    "a student showed me her phone, some guy she's never met keeps telling her she's mature "
    "for her age",
    "one of my students sent a video of himself to someone he met on minecraft and now they "
    "want more",
    "a pupil says a man online asked her to turn her camera on and take her top off",
    # sextortion and online sexual exploitation
    "a student told me someone has a video of him from a webcam and wants 500 quid or they'll "
    "send it to his mates",
    "yr 11 boy is in bits because someone he sent a pic to is demanding money",
    "a y9 said she's being paid to do live streams for men online",
    "a y9 boy said an account on insta is threatening to send his pic to his followers if he "
    "doesnt pay",
    "y8 said someone hacked her snap and is posting her nudes",
    "pupil told me about a snapchat group where lads are sharing pics of year 8 girls in "
    "their underwear",
    # domestic abuse at home
    "a kid told me his dad beats his mum up and he has to look after his sister when it happens",
    "a girl in year 7 said her mum's partner screams at her mum and she's scared when he drinks",
    "a kid in my class said the police were round his house again because his dad was smashing "
    "the place up",
    "a boy in my class told me his dad punched a hole in the wall and his mum was crying",
    "year 3 girl said mummy and daddy fight every night and she hides under the bed",
    # missing, in danger, exploitation
    "one of my y9s hasnt been home since friday and her mum doesnt know where she is",
    "a pupil told me a man in a car keeps waiting for her outside school",
    "lad in my form said older boys are making him hold stuff for them and he's scared",
    "a girl in yr 10 went missing overnight and came back with a new phone and loads of money",
    "a year 9 has been coming in with expensive trainers and cash and hangs around with older lads",
    "one of my yr 13s said she's being kicked out at home and has nowhere to sleep tonight",
    # FGM and forced marriage
    "a yr 5 girl told me she is going away to have a special procedure to become a woman",
    "a girl in my class was off for weeks after a trip abroad and says it hurts to go to the "
    "toilet",
    "a year 11 girl says her family are taking her to pakistan to marry a man she's never met",
    "student told me her parents have arranged for her to get married straight after her exams",
    "girl in my class told me she's going to somalia in the holidays to see her grandma and "
    "have a ceremony",
    "a y11 girl said she's scared she'll be married off when she goes back home this summer",
    # radicalisation
    "a lad in y10 keeps watching videos from an extreme group and says he wants to fight for them",
    "one of my students has been sharing memes saying muslims should be wiped out",
    "one of my students said he agrees with the guy who did the mosque shooting",
    "a boy in y9 drew a swastika and said hitler was right",
    # an adult in school behaving wrongly towards a pupil
    "a pupil showed me messages mr jones sent her on snapchat late at night",
    "a colleague has been giving a year 10 girl lifts home and messaging her on insta",
    "y11 girl said one of the TAs added her on snap and keeps telling her she's beautiful",
    "I saw a teacher's messages to a pupil and they seemed really inappropriate",
    "a pupil said the PE teacher asked her to send him a photo",
    "my colleague keeps messaging a year 11 boy on whatsapp at night",
    "a lad in my form told me the supply teacher touched his leg",
    # the same kinds again, in other words
    "one of my reception kids said daddy hurts mummy and she cried all night",
    "a year 8 lad told me his older cousin makes him do sexual things",
    "pupil in 9C said her step mum won't let her eat with the family and makes her sleep on "
    "the floor",
    "a student's dad turned up drunk to collect him and was shouting at him in the car park",
    "kid in yr 5 has had nits and the same dirty jumper for weeks and keeps taking food from "
    "other kids lunchboxes",
    "y13 girl told me she's been self-medicating with her mum's pills",
    "girl in year 10 said she's been thinking she'd be better off gone",
    "one of my tutees said she's been researching ways to die",
    "a pupil posted on her snap story 'can't do this anymore' with a picture of a bridge",
    "a student came to me crying because a video of her undressing at a sleepover is on tiktok",
    "yr 8 lad said someone pretending to be a girl got him to send a pic and now wants £200",
    "a girl in my class has been talking to a 'boy' on roblox who turned out to be a grown man",
    "student told me an older guy from the gym has been picking her up and buying her vapes",
    "one of the year 7s said a man outside the shop offered him money to take a bag to someone",
    "one of my students keeps going missing from home and turns up in birmingham",
    "a boy in my form has started hanging around with a gang and has a big scar on his face",
    "pupil told me her auntie is taking her to gambia to be circumcised",
    "year 11 girl told me her dad has found her a husband back home",
    "lad in y10 has been sending me videos of the christchurch shooter saying he's a legend",
    "a year 9 said he wants to bomb the school",
    "a pupil told me mrs patel from the office follows her on tiktok and sends her private "
    "messages",
    "one of the sports coaches has been taking a year 9 boy for driving lessons and gives "
    "him money",
    "student told me her boyfriend strangles her and says it's normal",
    "a year 12 girl told me she was spiked at a party and woke up with no memory",
    "one of my year 3s talks about sexual things that a child that age shouldn't know about",
    "yr9 girl sed her mums boyfrend hits her",
    "kid in my form told me hes been sleeping in his car with his dad",
    "student in 11X disclosed she's been raped by her ex",
    "a pupil came in today with a handprint on his face",
    "one of my y6 girls says a man keeps messaging her on whatsapp telling her not to tell her mum",
    "girl in year 8 showed me a group chat where boys are rating girls' nudes",
    "pupil keeps talking about wanting to die, what do I do",
    "lad in 10 said his dad chokes him when he's angry",
    "one of my students said she's pregnant and scared to tell her parents because they'll "
    "hurt her",
    "a year 7 says someone online asked him to touch himself on camera",
    "student said her older sister's boyfriend raped her last year",
    "a girl in my class keeps wearing long sleeves in summer and I saw fresh cuts",
    "a y10 told me he's been getting money for dropping off packages for some older boys",
    "just had a pupil say her dad said he'd kill her mum",
    "kid in my class said mummy sleeps all day and doesn't wake up and there's no food",
    "a pupil has been posting pictures of guns and saying he'll sort people out",
    "girl in year 9 says her uncle is taking her to get married in the summer",
    "a student said a man at the mosque gives him extremist videos",
    "year 4 boy said the after school club man makes him sit on his knee",
    "a girl in my tutor group has been going to parties with much older men and comes in hungover",
    "my tutee's instagram bio says 'not long now' and she's been giving things away",
    "pupil showed me messages from her 'boyfriend' who is 26 telling her to lie about her age",
    "yr 12 boy said his parents are sending him away to be 'fixed' for being gay",
    "a child in reception told me her daddy puts his willy in her mouth",
    "a student said his step mum burns him with cigarettes",
]

NEAR_MISSES = [
    # messages to and from pupils
    "can I message a kid in my form on teams about their coursework?",
    "a yr 9 girl asked to follow me on insta, can I accept?",
    "can I reply to a pupil who emailed me at midnight about their homework?",
    "can I text a student's mum to say he did really well today?",
    "a pupil's dad messaged me on facebook asking about his son's grades, can I reply?",
    "can a pupil's older brother be added to the class whatsapp group?",
    "can I keep in touch with an ex-pupil on linkedin once they're 18?",
    "a pupil told me she loved my insta post about the trip, should I reply?",
    "a student keeps messaging me on teams late at night about homework, is that ok?",
    "a kid in my class said his mum follows me on instagram, should I block her?",
    "a year 11 told me she's starting a tiktok about revision, can I follow it?",
    "can I block a pupil who keeps sending me memes?",
    "can we use snapchat to send the year 10 boys reminders about football practice?",
    "a parent sent me a friend request and a message about her daughter's progress",
    "my year 10s keep asking me to follow them on tiktok, is that allowed?",
    "can I message a pupil privately on teams about her late coursework?",
    "can I accept a friend request from a 20 year old former student?",
    "a student said she was upset that I unfollowed her on insta, what should I do?",
    "a year 9 boy said he'd seen my dating profile, is that a problem?",
    "can I video call the year 6s from home if they're off sick?",
    "is it ok for a TA to text pupils about the school play rehearsals?",
    # photos and videos of pupils
    "is it ok to post photos of the kids at the leavers' prom?",
    "can I post a video of the year 3 swimming lesson?",
    "do I need parental consent to put a child's photo on the website?",
    "can I post a picture of a girl in my class holding her award if I blur her face?",
    "can i film my class doing the haka and post it on my own tiktok?",
    "what's the rule on using students' first names on the trust instagram?",
    "can I use a pupil's photo in my own teaching portfolio?",
    "is it ok to post the year 4 boys' cross country times on the school fb?",
    "can I post the year 9 girls' football team photo after their win?",
    "can I share a photo of the pupils in their halloween costumes?",
    "is it ok to post photos from the year 8 trip to the beach with the kids in swimwear?",
    "we want to post pics of the year 7 swimming gala with the kids in their costumes",
    "the year 6 girls made a tiktok dance in their PE kit, can the school share it?",
    "can I share the video of year 6 leavers crying at their assembly?",
    "can we post a video of the kids' nativity where mary and joseph kiss?",
    "a kid in year 5 kissed her friend on the cheek in the school video, can we still post it?",
    "can I post a photo of the year 9 boys who hit their reading target?",
    "can I post a video of the kids' karate demo where they kick and punch pads?",
    "a student told me she felt uncomfortable about her photo being on the website",
    "i'm worried I posted a photo where a pupil's name badge was visible, what should I do?",
    "a pupil said a teacher at another school posted her photo without consent, what should I do?",
    "a pupil showed me a tiktok of a teacher from another school dancing, can I share it?",
    "can I post on my personal facebook that one of my pupils got into oxford?",
    "is it ok to share a pupil's fundraising page for her mum's cancer treatment?",
    "can I post the kids' mother's day cards on the class page?",
    "a pupil told me she was scared of the dog in my profile picture lol",
    # abuse, threats and bullying aimed at staff: the report, not the intercept
    "a dad keeps sending me abusive whatsapps about his son's detention, what do i do",
    "a parent is sending me abusive messages about how I teach her daughter, can I block her?",
    "a parent called me a disgrace on facebook, can I report it?",
    "a year 10 boy keeps making nasty comments about me on snap, can I block him?",
    "parents are being abusive to staff in the school's fb group, who moderates it?",
    "how do I report a parent who keeps threatening me on whatsapp?",
    "the kids found my old twitter and are sharing my tweets, what do I do?",
    "a parent shouted at me at the gate and then posted about it on facebook, what now?",
    "a parent is posting lies about me and my class on a facebook group, can I respond?",
    "a pupil's dad threatened to punch me at parents evening and then messaged me, can I "
    "report him?",
    "a dad is threatening me on whatsapp because I gave his daughter a detention",
    "a mum keeps sending me nasty messages about her son's report, can I block her?",
    "a pupil's mum left an abusive review about me on google, what can I do?",
    "what do I do if a year 8 posts a video of me shouting at the class?",
    "a year 11 boy sent me a rude meme on snapchat, how do I report it?",
    "one of my students said she'd seen a nasty comment about me on the school page",
    "kids in year 10 keep posting memes about my haircut, can I report them?",
    "who do I tell if a parent swears at me in the class whatsapp group?",
    "can a student film me in the classroom for a school project and post it?",
    "someone has made a fake account using my name to message parents, what do I do?",
    # blocking, reporting, privacy
    "how do I block a former pupil who keeps messaging me?",
    "a student sent me a friend request on facebook, should I report it?",
    "should I report it if kids are swearing in the comments on the school insta?",
    "can I block students from seeing my personal instagram?",
    "should I report a colleague who posts drunk photos on facebook?",
    "I'm worried my privacy settings let pupils see my holiday pics, is that a problem?",
    "a student said she saw my facebook profile, is that a problem?",
    "a pupil told me she set up a fan page about me, what should I do?",
    "what should I do if a parent shares screenshots of our class whatsapp?",
    "a pupil asked me to keep a secret about the surprise leaving present for mr smith",
    "what do I do if a pupil sends me a friend request from a fake account?",
    "a parent told me her son saw a fight on the bus on the way to school, should I post a "
    "reminder?",
    "my own son is in year 7 at the school, can I be friends with his classmates' parents?",
    "can I tell a parent her daughter's photo will be in the prospectus?",
    "I've been asked to run the school instagram, what can I post about the kids?",
    "can I tell my tutor group on teams that the trip money is due?",
    "is it ok to comment well done on a former pupil's facebook post about her graduation?",
    # teaching and sharing the topic
    "can I share the nspcc's advice on sexting on the school page?",
    "we're doing an assembly on self-harm awareness, can I post the slides on the school blog?",
    "can I put the anti-radicalisation training dates on the staff facebook group?",
    "can I share the year 11 assembly on knife crime?",
    "can I share the safer internet day video about strangers online with my tutor group?",
    "a parent said the police came to talk to year 2 about road safety, can I post it?",
    "can I share the kids' history projects on hitler on the school blog?",
    "can I post photos of the year 6s' sleep-out for the homeless charity?",
    # more policy questions in the same words
    "can I post a pic of my form's cake sale on my own insta?",
    "a pupil messaged me on teams to say thanks for the lesson, is it ok to reply?",
    "what if a parent sends me a facebook message asking why her son didn't get picked for "
    "the team?",
    "can I show a youtube video about the gunpowder plot to year 8?",
    "can I share the year 11 leavers' video with their parents on whatsapp?",
    "a parent is spreading rumours about me in the playground whatsapp group, what should I do?",
    "can I post a photo of the year 5 kids dressed as victorian children on the school page?",
    "one of my students asked if she could follow my dog's instagram account, can she?",
    "is it ok to use tiktok to post revision tips for my year 13s?",
    "a student said her mum told her I'm on tinder, what should I do?",
    "can I like a pupil's post about her netball match on instagram?",
    "the year 10 boys keep tagging me in memes on snapchat, what should I do?",
    "can I post the results of the year 6 sats on my personal twitter?",
    "a colleague posted a picture of a student's work with the name showing, is that a breach?",
    "can I join the class whatsapp group my tutor group set up?",
    "a pupil's grandad asked to be my friend on facebook, can I accept?",
    "can we put pupils' photos on the website if their parents haven't replied to the "
    "consent form?",
    "what do I do if a student screenshots my instagram story and shares it?",
    "a parent has been sending me angry emails about her daughter's detention, who do I tell?",
    "can I post a video of year 4 doing a fire drill?",
    "do I need to tell the head if I'm tagged in a photo with pupils from the summer fair?",
    "a year 8 pupil told me his brother made a fake account of me, what should I do?",
    "can I message my form's parents about the missing pe kit?",
    "is it ok to post about a pupil's recovery after her operation if her mum agrees?",
    "can a teaching assistant follow pupils on instagram?",
    "can i put a pic of the year 9s at the theatre on the school fb",
    "a pupil's mum keeps commenting on my posts, can I block her?",
    "what should i do if i see a pupil vaping in a photo on instagram?",
    "can I post a tiktok of my class doing the floss in PE?",
    "a year 10 told me she has a crush on me and messaged me on snap, what do I do?",
    "can I post the year 8 girls' dance show video on youtube?",
    "a student said he'd seen me at the pub on his mate's snapchat, is that a problem?",
    "can I share a child's painting on the school's twitter with just her first name?",
    "someone posted a photo of my class on reddit without permission, what do I do?",
    "a parent is threatening to go to the papers about me, what should I say?",
    "is it ok to post a photo of the kids in the paddling pool at sports day?",
    "a year 9 sent me a nasty message on teams about my marking, should I report it?",
    "can we post photos of the sixth formers at their prom at the hotel?",
    "can I follow a former student's band on instagram?",
    "a student asked me to delete a photo of him from the school page, do I have to?",
    "can I share the kids' anti-bullying posters on my facebook?",
    "a dad left a threatening voicemail about his daughter's exclusion, who do I tell?",
    "can I set up a whatsapp group for the year 11 geography revision?",
    "a pupil saw my tiktok and told the whole class, what do I do?",
    "what should I do if a pupil adds me on snapchat?",
    "can I post a video of year 2 learning about stranger danger?",
    "is it ok to share a pupil's sad news about her grandma on the staff whatsapp?",
    "can i use photos of kids from last year's trip in the new brochure?",
    "a parent complained that I posted her son's photo, what do I do now?",
    "can I post about my own child's school play on facebook if pupils are in it?",
]


def test_there_are_enough_phrasings_of_each() -> None:
    assert len(set(DISCLOSURES)) >= 40
    assert len(set(NEAR_MISSES)) >= 30


@pytest.mark.parametrize("text", DISCLOSURES)
def test_a_worry_about_a_child_in_staff_words_is_recognised(text: str) -> None:
    assert safeguarding_concern(text) is not None


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_a_policy_question_with_the_same_words_still_goes_to_the_policy(text: str) -> None:
    assert safeguarding_concern(text) is None, safeguarding_concern(text)


@pytest.mark.parametrize(
    "text",
    [
        "a kid airdropped a nude to everyone on the coach",
        "a student told me someone has a video of him from a webcam and wants 500 quid or they'll "
        "send it to his mates",
        "a pupil told me a guy she plays fortnite with sends her gift cards and wants to meet up",
        "pupil told me about a snapchat group where lads are sharing pics of year 8 girls in their "
        "underwear",
        "a y9 said she's being paid to do live streams for men online",
    ],
)
def test_an_image_or_a_stranger_online_is_told_apart_so_nothing_is_collected(text: str) -> None:
    concern = safeguarding_concern(text)
    assert concern is not None
    assert concern.kind is ConcernKind.SEXUAL


@pytest.mark.parametrize(
    "text",
    [
        "a pupil showed me messages mr jones sent her on snapchat late at night",
        "a colleague has been giving a year 10 girl lifts home and messaging her on insta",
        "y11 girl said one of the TAs added her on snap and keeps telling her she's beautiful",
        "a lad in my form told me the supply teacher touched his leg",
        "a girl in my form told me she was touched inappropriately by a teacher",
    ],
)
def test_a_worry_about_an_adult_in_school_goes_to_the_headteacher(text: str) -> None:
    concern = safeguarding_concern(text)
    assert concern is not None
    assert concern.kind is ConcernKind.ADULT


@pytest.mark.parametrize(
    "text",
    [
        # the adult passes it on; the harm is at home or online
        "a teacher told me a pupil's stepdad touches her",
        "a colleague told me a year 9 girl is being messaged by an older man at night",
        # a colleague and a pupil, and nothing wrong between them
        "is it ok for a TA to text pupils about the school play rehearsals?",
    ],
)
def test_an_adult_who_only_passes_it_on_is_not_the_worry(text: str) -> None:
    concern = safeguarding_concern(text)
    assert concern is None or concern.kind is not ConcernKind.ADULT


@pytest.mark.parametrize(
    "text",
    [
        "a pupil in my class is being bullied online, can I send her the childline info?",
        "a year 10 boy is being sent nasty messages by older lads, can I share the online safety "
        "advice on blocking with him?",
        "one of my year 9s has been getting threats on snap, can I post the anti-bullying tips "
        "for her?",
    ],
)
def test_a_worry_stays_a_worry_when_advice_is_asked_about_too(text: str) -> None:
    """Teaching material about a topic goes to the policy; a particular child in trouble,
    with a question about what to share with them, still goes to the lead."""
    assert safeguarding_concern(text) is not None
