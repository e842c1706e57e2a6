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


# A long tail of rarer surnames built from the parts English surnames are made of, so that
# a synthetic region of a million records has a realistic spread of names (most surnames
# rare, a few very common) rather than a couple of hundred shared by everyone.
SURNAME_STARTS = (
    "ash black brad brook bur cal car chad clay crom dal dar ed elm fair farn ged glad "
    "green hal ham hart hay hol hud kirk lang law lind mar mid mil mor nor ock old pen "
    "pres rad red ridg rock rom ruth sal shel stan stock sum thorn tun wal war wat west "
    "whit wil win wood wor yar"
).split()
SURNAME_ENDS = (
    "ford ley ton worth wood field by ham well more dale shaw croft hurst stead wick "
    "bridge cliffe combe den gate hill holme house land low mere sett thwaite wright"
).split()
EXTRA_GIVEN_FEMALE = (
    "adele agnes alma annabel antonia april ava beatrice bernadette bonnie bryony carla "
    "cecilia celia clara connie cora delia edith elaine elsa esme ethel eva faith fiona "
    "flora gail gloria gwen hazel heidi hilda imogen ingrid iris jasmine jodie josie "
    "judith kira lara leanne lena lorna lydia mabel marcia marina maya mina miriam "
    "nadia naomi nell nina nora olive pearl penny petra phyllis piper quinn rhian rita "
    "rosa ruth selina serena sheila sybil tamsin tara thea tilly una vera wendy winnie"
).split()
EXTRA_GIVEN_MALE = (
    "abel alfred alvin amos angus archer barnaby basil bernard blake bruce caleb cecil "
    "clement clifford conrad cyril dale damian declan desmond dominic duncan eli elliot "
    "emmett ewan felix fergus floyd gareth gideon gilbert glen graham hamish hector hugh "
    "ivor jasper jerome jonah jude julian kane laurence lionel magnus malcolm marcus "
    "milo morgan murray nigel ned niall otis owen percy quentin ralph rex rhys rory "
    "rufus rupert seth silas stuart tobias toby vernon victor wilfred xavier zane"
).split()
