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
    json_decref(s);

    /* a high user, in Danish: three tips, largest saving first (heating above similar homes 0.05 x 40 + 0.5 x 27,
     * then standby 0.5 x (30 - 20), then the dirtiest hours 10 - 40 x 0.15) */
    s = summary("more", 140.0, 91.5, 58.7, 40.0, 13.0);
    citizen_tips_add(s, "da");
    CHECK_STR(json_string_value(json_object_get(json_object_get(s, "peers"), "rating_text")),
              "I udleder mere end lignende hjem (140 kg mod 92 kg i midten). Tipsene herunder viser, hvor I sparer mest.");
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
