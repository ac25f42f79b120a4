/* citizen/tips: the KP2035 path, the templates, and the feedback of two households (a low user is praised; a high one
 * gets its largest savings first, in Danish with decimal commas; one below the minimum comparison group gets the reason).
 * Includes the .c for its statics. */
#include "citizen/tips.c"
#include "../test.h"

static json_t *summary(const char *rating, double total, double median, double p20, double heat_kg, double heat_median)
{
    return json_pack("{s:s, s:f, s:f, s:{s:s, s:{s:f, s:f}, s:{s:{s:f}, s:{s:f}}}, s:{s:{s:f, s:f, s:f, s:f}, "
                     "s:{s:f}, s:{s:{s:{s:f, s:f}}}, s:{s:{s:{s:f}}}}}",
                     "month", "2026-03", "total_co2e_kg", total, "co2e_kg_per_person", total / 2, "peers", "rating", rating,
                     "total_co2e_kg", "median", median, "efficient_p20", p20, "categories", "electricity", "co2e_kg_median", 20.0,
                     "district_heating", "co2e_kg_median", heat_median, "categories", "electricity", "co2e_kg", 30.0,
                     "dirty_hours_kwh", 40.0, "dirty_hours_co2e_kg", 10.0, "avg_g_per_kwh", 150.0, "district_heating", "co2e_kg",
                     heat_kg, "mobility", "modes", "car-petrol", "co2e_kg", 12.0, "km", 120.0, "waste", "fractions", "residual",
                     "co2e_kg", 6.0);
}

static const char *tip_text(json_t *s, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(s, "tips"), i), "text"));
}

int main(void)
{
    char out[128];
    const var_t vars[] = {{"kg", 5.25, 1, NULL}, {"n", 40, 0, NULL}, {"t", 0, 0, "tekst"}};
    json_t *s;

    CHECK(kp2035_target(2019) == 10.0 && kp2035_target(2030) == 7.5 && kp2035_target(2035) == 5.0 && kp2035_target(2050) == 5.0);
    CHECK(kp2035_target(2024) > 7.5 && kp2035_target(2024) < 10.0);
    /* the path's pace: 2.5 t over 11 years to 2030 (-2.6 % in 2026), 2.5 t over 5 years after (-6.7 % in 2031) */
    CHECK(fabs(kp2035_pace_pct(2026) - 100.0 * (-2.5 / 11) / (10.0 - 2.5 * 6 / 11)) < 1e-9);
    CHECK(fabs(kp2035_pace_pct(2031) + 100.0 / 15) < 1e-9);
    CHECK(kp2035_pace_pct(2040) == 0.0);

    fill(out, sizeof(out), "{n} kWh, {kg} kg, {t}, {unknown}", vars, 3, 0);
    CHECK_STR(out, "40 kWh, 5.2 kg, tekst, {unknown}");
    fill(out, sizeof(out), "{kg} kg", vars, 3, 1);
    CHECK_STR(out, "5,2 kg");
    fill(out, 8, "{n} kWh and more", vars, 3, 0);
    CHECK_STR(out, "40 kWh ");

    /* a low user: praised, with the figures that show it */
    s = summary("great", 54.0, 91.5, 58.7, 6.0, 13.0);
    citizen_tips_add(s, "en");
    CHECK_STR(json_string_value(json_object_get(json_object_get(s, "peers"), "rating_text")),
              "Great! You emit less than the most efficient 20% of similar homes (54 kg against 59 kg). Keep it up.");
    CHECK_STR(json_string_value(json_object_get(s, "lang")), "en");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(s, "kp2035"), "year")), 2026);
    /* KP2035 fair: no last year, no measured change; the path note names the pace */
    CHECK(json_is_null(json_object_get(json_object_get(s, "kp2035"), "measured_change_pct")));
    CHECK(strstr(json_string_value(json_object_get(json_object_get(s, "kp2035"), "path_note")), "about 2.6% a year") != NULL);
    /* no "available" in this summary: no group words */
    CHECK(json_is_null(json_object_get(json_object_get(s, "peers"), "group_text")));
    json_decref(s);

    /* the comparison group in words, widened to the district's apartments, in both languages */
    for (int da = 0; da < 2; ++da) {
        json_t *peers = json_pack("{s:b, s:i, s:b, s:{s:s, s:s}}", "available", 1, "n_households", 154, "widened", 1, "criteria",
                                  "district", "Valby", "dwelling_type", "apartment");
        json_t *household = json_pack("{s:s, s:s, s:s}", "district", "Valby", "dwelling_type", "apartment", "occupant_band", "2");
        describe_group(peers, household, da);
        CHECK_STR(json_string_value(json_object_get(peers, "group_text")),
                  da ? "Sammenlignet med 154 lejligheder i Valby." : "Compared with 154 apartments in Valby.");
        CHECK_STR(json_string_value(json_object_get(peers, "widened_text")),
                  da ? "Gruppen er udvidet til alle lejligheder i Valby, fordi færre end 100 lejligheder med 2 personer i Valby "
                       "havde data i måneden."
                     : "The group was widened to all apartments in Valby because fewer than 100 apartments with 2 people in "
                       "Valby had data that month.");
        json_object_set_new(peers, "widened", json_false());
        json_object_set_new(
            peers, "criteria",
            json_pack("{s:s, s:s, s:s}", "district", "Amager Øst", "dwelling_type", "detached", "occupant_band", "5+"));
        describe_group(peers, household, da);
        CHECK_STR(json_string_value(json_object_get(peers, "group_text")),
                  da ? "Sammenlignet med 154 parcelhuse med 5 eller flere personer i Amager Øst."
                     : "Compared with 154 detached houses with 5 or more people in Amager Øst.");
        CHECK(json_is_null(json_object_get(peers, "widened_text")));
        json_object_set_new(peers, "criteria", json_object());
        json_object_set_new(peers, "widened", json_true());
        describe_group(peers, household, da);
        CHECK_STR(json_string_value(json_object_get(peers, "group_text")),
                  da ? "Sammenlignet med 154 hjem i hele København." : "Compared with 154 homes in all of Copenhagen.");
        json_decref(peers);
        json_decref(household);
    }

    /* a high user, in Danish: three tips, largest saving first (heating above similar homes 0.05 x 40 + 0.5 x 27,
     * then standby 0.5 x (30 - 20), then the dirtiest hours 10 - 40 x 0.15) */
    s = summary("more", 140.0, 91.5, 58.7, 40.0, 13.0);
    citizen_tips_add(s, "da");
    CHECK_STR(json_string_value(json_object_get(json_object_get(s, "peers"), "rating_text")),
              "I udleder mere end lignende hjem (140 kg mod medianen på 92 kg). Tipsene herunder viser, hvor I sparer mest.");
    CHECK_INT(json_array_size(json_object_get(s, "tips")), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(s, "tips"), 0), "id")), "heating-one-degree");
    CHECK_STR(tip_text(s, 0), "Fjernvarmen gav 40,0 kg CO2e, mere end i lignende hjem. Skru en grad ned og luk for radiatorer i "
                              "rum, I ikke bruger: omkring 15,5 kg CO2e om måneden.");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(s, "tips"), 1), "id")), "electricity-standby");
    json_decref(s);

    /* below the minimum comparison group: no rating, the summary's reason in the asked language is the rating text */
    s = summary("great", 54.0, 91.5, 58.7, 6.0, 13.0);
    json_object_del(json_object_get(s, "peers"), "rating");
    json_object_set_new(json_object_get(s, "peers"), "reason",
                        json_pack("{s:s, s:s}", "da", "Der er færre end 50 lignende hjem.", "en", "There are fewer than 50."));
    citizen_tips_add(s, "da");
    CHECK_STR(json_string_value(json_object_get(json_object_get(s, "peers"), "rating_text")), "Der er færre end 50 lignende hjem.");
    json_decref(s);
    return TEST_DONE();
}
