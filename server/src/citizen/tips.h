/*
 * citizen/tips — the feedback a citizen reads next to the month's summary (DESIGN section 5): the rating in words that
 * praise low users (so they do not drift up: Schultz et al. 2007), the KP2035 path for the month's year, and up to three
 * tips ranked by the kg CO2e this household could save, each computed from its own figures. The texts, Danish and
 * English, are tables of templates; the figures fill their {placeholders}.
 */
#ifndef KLIMA_CITIZEN_TIPS_H
#define KLIMA_CITIZEN_TIPS_H

#include <jansson.h>

/* Adds rating_text (under peers), kp2035, tips and lang to a summary from api.me_summary (in place), in lang ("da" or
 * "en"). Missing figures count as 0. */
void citizen_tips_add(json_t *summary, const char *lang);

#endif
