"""Word lists the generated-text applications share (`summarization` reports,
`qa` passages): people's first names, cities and months, all lower case."""

NAMES = (
    "anna", "ben", "carla", "david", "elena", "felix", "grace", "hugo",
    "iris", "jonas", "karin", "leo", "maria", "nina", "oscar", "paula",
    "rosa", "sam", "tina", "victor", "wendy", "yuri", "zoe", "adam", "bella",
    "omar", "lucia", "marco", "sofia", "ivan", "emma", "noah", "lena", "max",
    "clara", "tom", "sara", "paul", "julia", "karl", "pia", "raj",
)  # fmt: skip
CITIES = (
    "rome", "paris", "lisbon", "madrid", "berlin", "vienna", "oslo", "dublin",
    "prague", "warsaw", "athens", "cairo", "lima", "tokyo", "seoul", "delhi",
    "sydney", "toronto", "chicago", "boston", "denver", "miami", "seattle",
    "london", "glasgow", "leeds", "bristol", "milan", "naples", "porto",
    "seville", "lyon", "munich", "hamburg", "zurich", "geneva", "brussels",
    "amsterdam", "helsinki", "stockholm",
)  # fmt: skip
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december",
)  # fmt: skip
