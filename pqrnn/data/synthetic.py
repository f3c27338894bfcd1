"""A small, generated intent + slot dataset that ships with the code.

The real datasets (MTOP, MultiATIS++) cannot be redistributed, so the demo,
the `smoke` preset and CI train on this instead: templated utterances in
English, German and French for five assistant intents, with BIO slots. It is
generated, deterministic for a given seed, and far easier than the real data:
it shows that the pipeline learns, not how well a model does on real text.
"""

from __future__ import annotations

import random

from pqrnn.data.example import Example

_SLOT_VALUES = {
    "en": {
        "time": ["7 am", "six thirty", "noon", "9 pm tonight", "10:15"],
        "location": ["paris", "new york", "berlin", "the beach", "san francisco"],
        "date": ["today", "tomorrow", "this weekend", "on monday"],
        "contact": ["mom", "alice", "bob smith", "my brother", "dr jones"],
        "artist": ["adele", "the beatles", "miles davis", "daft punk"],
        "todo": ["buy milk", "call the bank", "water the plants", "pay rent"],
    },
    "de": {
        "time": ["7 uhr", "halb sieben", "mittag", "21 uhr heute abend"],
        "location": ["paris", "münchen", "berlin", "hamburg", "köln"],
        "date": ["heute", "morgen", "am wochenende", "am montag"],
        "contact": ["mama", "anna", "herrn müller", "meinen bruder"],
        "artist": ["adele", "die ärzte", "rammstein", "daft punk"],
        "todo": ["milch kaufen", "die bank anrufen", "blumen gießen"],
    },
    "fr": {
        "time": ["7 heures", "six heures et demie", "midi", "21 heures ce soir"],
        "location": ["paris", "lyon", "marseille", "berlin", "la plage"],
        "date": ["aujourd'hui", "demain", "ce week-end", "lundi"],
        "contact": ["maman", "alice", "monsieur dupont", "mon frère"],
        "artist": ["adele", "édith piaf", "stromae", "daft punk"],
        "todo": ["acheter du lait", "appeler la banque", "arroser les plantes"],
    },
}

# (intent, template); {slot} marks a slot filled from _SLOT_VALUES.
_TEMPLATES = {
    "en": [
        ("set_alarm", "set an alarm for {time}"),
        ("set_alarm", "wake me up at {time} {date}"),
        ("get_weather", "what is the weather in {location} {date}"),
        ("get_weather", "will it rain {date} in {location}"),
        ("create_call", "call {contact}"),
        ("create_call", "please phone {contact} now"),
        ("play_music", "play some {artist}"),
        ("play_music", "put on music by {artist}"),
        ("set_reminder", "remind me to {todo} at {time}"),
        ("set_reminder", "remind me {date} to {todo}"),
    ],
    "de": [
        ("set_alarm", "stelle einen wecker für {time}"),
        ("set_alarm", "weck mich {date} um {time}"),
        ("get_weather", "wie ist das wetter in {location} {date}"),
        ("get_weather", "regnet es {date} in {location}"),
        ("create_call", "ruf {contact} an"),
        ("create_call", "bitte {contact} jetzt anrufen"),
        ("play_music", "spiel etwas von {artist}"),
        ("play_music", "musik von {artist} bitte"),
        ("set_reminder", "erinnere mich um {time} an {todo}"),
        ("set_reminder", "erinnere mich {date} daran {todo}"),
    ],
    "fr": [
        ("set_alarm", "mets un réveil à {time}"),
        ("set_alarm", "réveille-moi {date} à {time}"),
        ("get_weather", "quel temps fait-il à {location} {date}"),
        ("get_weather", "va-t-il pleuvoir {date} à {location}"),
        ("create_call", "appelle {contact}"),
        ("create_call", "téléphone à {contact} maintenant"),
        ("play_music", "joue du {artist}"),
        ("play_music", "mets de la musique de {artist}"),
        ("set_reminder", "rappelle-moi de {todo} à {time}"),
        ("set_reminder", "rappelle-moi {date} de {todo}"),
    ],
}

LANGUAGES = tuple(_TEMPLATES)


def _fill(template: str, values: dict[str, list[str]], rng: random.Random):
    tokens: list[str] = []
    tags: list[str] = []
    for word in template.split():
        if word.startswith("{") and word.endswith("}"):
            slot = word[1:-1]
            value = rng.choice(values[slot]).split()
            tokens += value
            tags += [f"B-{slot}"] + [f"I-{slot}"] * (len(value) - 1)
        else:
            tokens.append(word)
            tags.append("O")
    return tokens, tags


def generate(
    split: str, languages: tuple[str, ...] = LANGUAGES, num_per_language: int = 0, seed: int = 0
) -> list[Example]:
    """Generated examples of one split.

    Args:
      split: "train", "validation" or "test"; each draws from its own random
        stream, so the splits differ (though, being templated, they overlap).
      languages: any of "en", "de", "fr".
      num_per_language: examples per language; 0 means 600 for train and
        150 otherwise.
      seed: base seed.
    """
    unknown = sorted(set(languages) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"synthetic data has no language(s) {unknown}; expected {LANGUAGES}")
    splits = ("train", "validation", "test")
    if split not in splits:
        raise ValueError(f"unknown split {split!r}; expected one of {splits}")
    count = num_per_language or (600 if split == "train" else 150)
    examples = []
    for language in languages:
        rng = random.Random(f"{seed}/{split}/{language}")
        for i in range(count):
            intent, template = rng.choice(_TEMPLATES[language])
            tokens, tags = _fill(template, _SLOT_VALUES[language], rng)
            examples.append(
                Example(
                    id=f"synthetic-{split}-{language}-{i}",
                    language=language,
                    tokens=tuple(tokens),
                    tags=tuple(tags),
                    intent=intent,
                )
            )
    return examples
