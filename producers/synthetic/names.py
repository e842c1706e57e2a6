"""Name and place vocabularies with rough frequencies, so that common names are common
(term-frequency adjustment and blocking caps are exercised) and rare ones rare."""

from __future__ import annotations

FEMALE_GIVEN = (
    "olivia amelia isla ava mia ivy lily isabella rosie sophia grace freya willow florence "
    "emily ella poppy evie elsie charlotte evelyn harper sienna sofia daisy phoebe alice "
    "matilda ruby millie aria jessica chloe lucy hannah sophie emma megan lauren amy "
    "rebecca sarah laura rachel katie gemma nicola claire michelle lisa donna joanne kelly "
    "helen julie karen tracey susan linda carol patricia margaret elizabeth jean mary "
    "barbara dorothy joan sandra christine janet pauline maureen irene brenda valerie "
    "shirley sheila june eileen doreen kathleen ann anne catherine victoria jennifer "
    "samantha natalie hayley zoe jade leah abigail amber holly georgia molly eleanor "
    "bethany yasmin aisha fatima zara amira noor priya anika mariam hafsa"
).split()
MALE_GIVEN = (
    "noah oliver george arthur muhammad leo harry oscar archie henry theodore freddie jack "
    "charlie theo alfie jacob thomas finley lucas isaac william james joshua daniel samuel "
    "joseph benjamin matthew ryan liam luke adam nathan jordan connor callum kieran lewis "
    "david michael john paul mark andrew richard peter stephen robert christopher anthony "
    "kevin gary ian simon martin darren jason lee craig wayne dean neil carl brian kenneth "
    "ronald raymond derek keith trevor colin barry roy dennis alan gordon frank albert "
    "edward walter ernest harold stanley frederick leonard douglas terence patrick sean "
    "aaron ethan tyler kai reuben ibrahim yusuf omar ali hassan bilal imran arjun rohan"
).split()
FAMILY = (
    "smith jones taylor brown williams wilson johnson davies patel wright robinson thompson "
    "evans walker white roberts green hall wood jackson clarke khan lewis hughes edwards "
    "hill turner hussain harris martin cooper ward morris moore clark lee king baker "
    "harrison morgan allen james scott phillips watson davis parker price bennett young "
    "griffiths mitchell kelly cook carter richardson bailey collins bell shaw murphy miller "
    "cox richards khan ali ahmed begum singh kaur chapman mason marshall webb rogers hunt "
    "holmes mills owen simpson stevens palmer fisher ellis dixon knight lloyd gibson "
    "barker wells spencer butler russell pearson atkinson burton grant fletcher foster "
    "lawrence powell fox ashworth blackwell brindley cartwright dunmore eccleston fairbrother "
    "garside hargreaves ingleby jevons kettleborough lightbody mottram nuttall ormerod "
    "pickering quarmby rowbotham sidebottom tattersall underwood vickerstaff whitworth "
    "yardley abernethy brackenbury cholmondeley dimmock entwistle fothergill gledhill "
    "hepplewhite illingworth jagger kitching loxley micklethwaite northcott oddie "
    "pennington ramsbottom stringfellow thistlethwaite uttley varley wainwright "
    "okonkwo adeyemi nowak kowalski popescu ferreira oconnor omalley mcdonald macleod"
).split()
STREETS = (
    "stanley oak alder birch cedar elm larch maple willow ash beech hazel holly rowan "
    "station church mill park victoria albert queen king high bridge chapel school "
    "green spring forge foundry canal wharf colliery furnace hill castle manor grange "
    "meadow orchard farm field brook lea vale dale moor heath"
).split()
STREET_TYPES = (
    "road",
    "street",
    "avenue",
    "lane",
    "close",
    "crescent",
    "drive",
    "grove",
    "terrace",
    "walk",
    "way",
    "gardens",
    "place",
    "court",
)
TOWNS = (
    ("Walsall", "WS"),
    ("Wolverhampton", "WV"),
    ("Dudley", "DY"),
    ("West Bromwich", "B"),
    ("Birmingham", "B"),
    ("Solihull", "B"),
    ("Coventry", "CV"),
)


def zipf_weights(count: int, exponent: float = 1.0) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]
