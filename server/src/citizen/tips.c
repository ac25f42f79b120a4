/*
 * citizen/tips — ratings, the KP2035 path and tips: texts as tables, figures from the household's summary.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "citizen/tips.h"
#include "core/strutil.h"

#define TEXT_MAX 400

/* The household's figures the texts and savings use (from the summary; 0 when absent). */
typedef struct figures {
    double total, per_person, median, p20;
    double dirty_kwh, dirty_kg, avg_g, elec_kg, elec_median, heat_kg, heat_median, car_kg, car_km, residual_kg;
    double change_pct; /* against the same month last year, when has_change */
    int has_change;
} figures_t;

/* Where each figure is in the summary (a dotted path). */
static const struct {
    size_t offset;
    const char *path;
} figure_paths[] = {
    {offsetof(figures_t, total), "total_co2e_kg"},
    {offsetof(figures_t, per_person), "co2e_kg_per_person"},
    {offsetof(figures_t, median), "peers.total_co2e_kg.median"},
    {offsetof(figures_t, p20), "peers.total_co2e_kg.efficient_p20"},
    {offsetof(figures_t, dirty_kwh), "categories.electricity.dirty_hours_kwh"},
    {offsetof(figures_t, dirty_kg), "categories.electricity.dirty_hours_co2e_kg"},
    {offsetof(figures_t, avg_g), "categories.electricity.avg_g_per_kwh"},
    {offsetof(figures_t, elec_kg), "categories.electricity.co2e_kg"},
    {offsetof(figures_t, elec_median), "peers.categories.electricity.co2e_kg_median"},
    {offsetof(figures_t, heat_kg), "categories.district_heating.co2e_kg"},
    {offsetof(figures_t, heat_median), "peers.categories.district_heating.co2e_kg_median"},
    {offsetof(figures_t, car_kg), "categories.mobility.modes.car-petrol.co2e_kg"},
    {offsetof(figures_t, car_km), "categories.mobility.modes.car-petrol.km"},
    {offsetof(figures_t, residual_kg), "categories.waste.fractions.residual.co2e_kg"},
};

/* --- the texts ------------------------------------------------------------------------------------------------------- */

/* The rating, by peers.rating; the last row is for every other rating. */
static const struct {
    const char *rating, *da, *en;
} ratings[] = {
    {"great", "Flot! I udleder mindre end de mest effektive 20 % af lignende hjem ({total} kg mod {p20} kg). Bliv ved med det.",
     "Great! You emit less than the most efficient 20% of similar homes ({total} kg against {p20} kg). Keep it up."},
    {"good", "Godt! I ligger under medianen for lignende hjem ({total} kg mod {median} kg). De mest effektive når ned på {p20} kg.",
     "Good! You are below the median of similar homes ({total} kg against {median} kg). The most efficient reach {p20} kg."},
    {NULL, "I udleder mere end lignende hjem ({total} kg mod medianen på {median} kg). Tipsene herunder viser, hvor I sparer mest.",
     "You emit more than similar homes ({total} kg against the median of {median} kg). The tips below show where you save most."},
};

/* What each tip could save a month (kg CO2e), 0 when it does not apply to this household. */
static double save_dirty_hours(const figures_t *f)
{
    /* moving the dirtiest-hours use to hours of average intensity */
    double at_average = f->dirty_kwh * f->avg_g / 1000.0;
    return f->dirty_kwh > 0 && f->dirty_kg > at_average ? f->dirty_kg - at_average : 0;
}

static double save_heating(const figures_t *f)
{
    /* 1 degree lower indoors saves about 5 % of space heating (a common rule of thumb: an assumption), and half of what
     * is above similar homes */
    double above = f->heat_kg > f->heat_median && f->heat_median > 0 ? 0.5 * (f->heat_kg - f->heat_median) : 0;
    return f->heat_kg > 0 ? 0.05 * f->heat_kg + above : 0;
}

static double save_car(const figures_t *f)
{
    return f->car_kg > 0 ? 0.2 * f->car_kg : 0; /* a fifth of the petrol-car kilometres by bike or public transport */
}

static double save_standby(const figures_t *f)
{
    return f->elec_kg > f->elec_median && f->elec_median > 0 ? 0.5 * (f->elec_kg - f->elec_median) : 0;
}

static double save_sorting(const figures_t *f)
{
    return f->residual_kg > 0 ? f->residual_kg / 3.0 : 0; /* a third of residual waste sorted out: an assumption */
}

static const struct {
    const char *id;
    double (*saving)(const figures_t *f);
    const char *da, *en;
} tips[] = {
    {"shift-dirty-hours", save_dirty_hours,
     "{dirty_kwh} kWh af jeres strøm blev brugt i månedens mest CO2-tunge timer. Flyt vask, opvask og opladning til timer med "
     "grønnere strøm, og spar omkring {saving} kg CO2e om måneden.",
     "{dirty_kwh} kWh of your electricity was used in the month's most carbon-intensive hours. Move laundry, dishwashing and "
     "charging to greener hours and save about {saving} kg CO2e a month."},
    {"heating-one-degree", save_heating,
     "Fjernvarmen gav {heat_kg} kg CO2e{heat_more}. Skru en grad ned og luk for radiatorer i rum, I ikke bruger: omkring {saving} "
     "kg CO2e om måneden.",
     "District heating came to {heat_kg} kg CO2e{heat_more}. Turn down one degree and close radiators in rooms you do not use: "
     "about {saving} kg CO2e a month."},
    {"car-to-bike", save_car,
     "I kørte {car_km} km i benzin- eller dieselbil ({car_kg} kg CO2e). Tag hver femte af de ture på cykel, med metro eller "
     "S-tog, og spar omkring {saving} kg CO2e om måneden.",
     "You drove {car_km} km by petrol or diesel car ({car_kg} kg CO2e). Make one in five of those trips by bike, metro or "
     "S-train and save about {saving} kg CO2e a month."},
    {"electricity-standby", save_standby,
     "Elforbruget gav {elec_kg} kg CO2e mod {elec_median} kg i lignende hjem. Sluk standby og udskift de ældste apparater, og "
     "spar omkring {saving} kg CO2e om måneden.",
     "Electricity came to {elec_kg} kg CO2e against {elec_median} kg in similar homes. Switch off standby and replace the "
     "oldest appliances to save about {saving} kg CO2e a month."},
    {"sort-residual-waste", save_sorting,
     "Restaffaldet gav {residual_kg} kg CO2e. Sorter madaffald og plast fra, og spar omkring {saving} kg CO2e om måneden.",
     "Residual waste came to {residual_kg} kg CO2e. Sort out food waste and plastic and save about {saving} kg CO2e a month."},
};

static const struct {
    const char *key, *da, *en;
} texts[] = {
    {"heat_more", ", mere end i lignende hjem", ", more than similar homes"},
    {"covered_share_note",
     "Kategorierne her dækker kun en del af det forbrugsbaserede aftryk: mad, ting, rejser og offentligt forbrug er ikke med. "
     "Tallet er månedens udledning pr. person gange 12.",
     "These categories cover only part of the consumption-based footprint: food, goods, travel and public consumption are not "
     "included. The figure is the month's emissions per person times 12."},
    {"path_note",
     "KP2035 halverer københavnernes forbrugsbaserede udledning pr. person fra 2019 til 2035 (10 t til 5 t; 7,5 t i 2030). Målet "
     "gælder hele forbruget, og vi måler kun en del af det, så jeres tal sættes ikke op mod hele målet. Stien gælder også for "
     "hver del af forbruget: i {year} skal udledningen falde omkring {pace} % om året, og det tempo sammenligner vi jeres målte "
     "områder med.",
     "KP2035 halves Copenhageners' consumption-based emissions per person from 2019 to 2035 (10 t to 5 t; 7.5 t in 2030). The "
     "target covers all consumption and we measure only part of it, so your figure is not set against the whole target. The "
     "path holds for each part of consumption too: in {year} emissions must fall by about {pace}% a year, and that is the pace "
     "we compare your measured categories with."},
    {"path_source", "Københavns Kommune: KBH 2035 Klimaplan (kk.dk, international.kk.dk)",
     "City of Copenhagen: CPH 2035 Climate Plan (kk.dk, international.kk.dk)"},
};

static const char *text(const char *key, int da)
{
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); ++i) {
        if (strcmp(texts[i].key, key) == 0)
            return da ? texts[i].da : texts[i].en;
    }
    return "";
}

/* --- filling a template ------------------------------------------------------------------------------------------------ */

/* A placeholder's value: a number with its decimals, or a text. */
typedef struct var {
    const char *name;
    double value;
    int decimals;
    const char *text; /* when not NULL */
} var_t;

/* Writes template into out (size bytes), each {name} replaced by its var; Danish takes a decimal comma. An unknown
 * placeholder stays as it is. */
static void fill(char *out, size_t size, const char *template, const var_t *vars, size_t nvars, int da)
{
    size_t used = 0;

    for (const char *t = template; *t != '\0' && used + 1 < size;) {
        const char *close = *t == '{' ? strchr(t, '}') : NULL;
        const var_t *v = NULL;
        for (size_t i = 0; close != NULL && i < nvars && v == NULL; ++i) {
            if (strlen(vars[i].name) == (size_t)(close - t - 1) && memcmp(vars[i].name, t + 1, (size_t)(close - t - 1)) == 0)
                v = &vars[i];
        }
        if (v == NULL) {
            out[used++] = *t++;
            continue;
        }
        int n = v->text != NULL ? str_fmt(out + used, size - used, "%s", v->text)
                                : str_fmt(out + used, size - used, "%.*f", v->decimals, v->value);
        if (n < 0)
            break;
        if (da && v->text == NULL) {
            char *dot = memchr(out + used, '.', (size_t)n); /* Danish writes decimals with a comma */
            if (dot != NULL)
                *dot = ',';
        }
        used += (size_t)n;
        t = close + 1;
    }
    out[used] = '\0';
}

/* --- the feedback ------------------------------------------------------------------------------------------------------ */

static double num(json_t *obj, const char *path)
{
    /* dotted path lookup: "categories.electricity.co2e_kg" */
    char key[64];
    const char *p = path;
    json_t *cur = obj;
    while (cur != NULL && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof(key))
            return 0;
        memcpy(key, p, len);
        key[len] = '\0';
        cur = json_object_get(cur, key);
        p += len + (dot != NULL);
    }
    return json_is_number(cur) ? json_number_value(cur) : 0;
}

/* The KP2035 target in tonnes CO2e per person and year: 10 t in 2019, 7.5 t in 2030 (-25 %), 5 t in 2035, straight lines
 * between, 5 t after 2035. */
static double kp2035_target(int year)
{
    if (year <= 2019)
        return 10.0;
    if (year <= 2030)
        return 10.0 - 2.5 * (year - 2019) / 11.0;
    if (year <= 2035)
        return 7.5 - 2.5 * (year - 2030) / 5.0;
    return 5.0;
}

/* The path's pace in a year: the change of the target from the year before, in % (negative: a fall). The path is one
 * relative reduction for all consumption, so it holds for the measured part as much as for the whole. */
static double kp2035_pace_pct(int year)
{
    double before = kp2035_target(year - 1);
    return 100.0 * (kp2035_target(year) - before) / before;
}

/* The month's per-person figure annualised, and the fair comparison: the measured categories' change against the same
 * month last year beside the path's pace (never the measured part against the whole-consumption target). */
static json_t *kp2035(const figures_t *f, int year, int da)
{
    double annual_t = f->per_person * 12.0 / 1000.0, target = kp2035_target(year), pace = kp2035_pace_pct(year);
    char note[TEXT_MAX * 2];
    const var_t vars[] = {{"year", year, 0, NULL}, {"pace", fabs(pace), 1, NULL}};
    json_t *kp = json_pack("{s:i, s:f, s:f, s:f, s:f, s:f}", "year", year, "target_t_per_person_year", round(target * 100) / 100,
                           "target_2035_t_per_person_year", 5.0, "baseline_2019_t_per_person_year", 10.0,
                           "covered_t_per_person_year_estimate", round(annual_t * 100) / 100, "path_change_pct_per_year",
                           round(pace * 10) / 10);
    json_object_set_new(kp, "covered_categories",
                        json_pack("[s,s,s,s,s]", "electricity", "district_heating", "water", "waste", "mobility"));
    json_object_set_new(kp, "covered_share_note", json_string(text("covered_share_note", da)));
    json_object_set_new(kp, "measured_change_pct", f->has_change ? json_real(round(f->change_pct * 10) / 10) : json_null());
    fill(note, sizeof(note), text("path_note", da), vars, 2, da);
    json_object_set_new(kp, "path_note", json_string(note));
    json_object_set_new(kp, "path_source", json_string(text("path_source", da)));
    return kp;
}

typedef struct tip {
    const char *id;
    double kg;
    char text[TEXT_MAX];
} tip_t;

static int tip_cmp(const void *a, const void *b)
{
    double x = ((const tip_t *)a)->kg, y = ((const tip_t *)b)->kg;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The tips that apply, largest saving first, at most three. */
static json_t *ranked_tips(const figures_t *f, int da)
{
    tip_t found[sizeof(tips) / sizeof(tips[0])];
    size_t n = 0;
    json_t *arr = json_array();
    var_t vars[] = {{"dirty_kwh", f->dirty_kwh, 0, NULL},
                    {"heat_kg", f->heat_kg, 1, NULL},
                    {"car_km", f->car_km, 0, NULL},
                    {"car_kg", f->car_kg, 1, NULL},
                    {"elec_kg", f->elec_kg, 1, NULL},
                    {"elec_median", f->elec_median, 1, NULL},
                    {"residual_kg", f->residual_kg, 1, NULL},
                    {"saving", 0, 1, NULL},
                    {"heat_more", 0, 0, f->heat_kg > f->heat_median && f->heat_median > 0 ? text("heat_more", da) : ""}};
    size_t nvars = sizeof(vars) / sizeof(vars[0]);

    for (size_t i = 0; i < sizeof(tips) / sizeof(tips[0]); ++i) {
        double kg = tips[i].saving(f);
        if (kg <= 0)
            continue;
        vars[7].value = kg;
        found[n].id = tips[i].id;
        found[n].kg = kg;
        fill(found[n].text, sizeof(found[n].text), da ? tips[i].da : tips[i].en, vars, nvars, da);
        ++n;
    }
    qsort(found, n, sizeof(found[0]), tip_cmp);
    for (size_t i = 0; i < n && i < 3; ++i)
        json_array_append_new(arr, json_pack("{s:s, s:f, s:s}", "id", found[i].id, "saving_co2e_kg_per_month",
                                             round(found[i].kg * 100) / 100, "text", found[i].text));
    return arr;
}

/* --- the comparison group in words ------------------------------------------------------------------------------------- */

/* rollup.household_peer_monthly (0005_household_rollups.sql) widens a group while it has fewer homes than this */
#define PEER_GROUP_PREFERRED 100

static const struct {
    const char *key, *da, *en;
} dwellings[] =
    {
        {"apartment", "lejligheder", "apartments"},
        {"terraced", "rækkehuse", "terraced houses"},
        {"detached", "parcelhuse", "detached houses"},
        {NULL, "hjem", "homes"}, /* every dwelling type */
},
  bands[] = {
      {"1", " med 1 person", " with 1 person"},
      {"2", " med 2 personer", " with 2 people"},
      {"3-4", " med 3-4 personer", " with 3-4 people"},
      {"5+", " med 5 eller flere personer", " with 5 or more people"},
      {NULL, "", ""}, /* every band */
};

/* Writes "apartments with 2 people in Valby" (NULL attributes: all dwellings, all bands, all of Copenhagen). */
static void group_words(char *out, size_t size, const char *dwelling, const char *band, const char *district, int da)
{
    size_t d = 0, b = 0;
    while (dwellings[d].key != NULL && (dwelling == NULL || strcmp(dwellings[d].key, dwelling) != 0))
        ++d;
    while (bands[b].key != NULL && (band == NULL || strcmp(bands[b].key, band) != 0))
        ++b;
    if (district != NULL)
        str_fmt(out, size, "%s%s %s %s", da ? dwellings[d].da : dwellings[d].en, da ? bands[b].da : bands[b].en, da ? "i" : "in",
                district);
    else
        str_fmt(out, size, "%s%s %s", da ? dwellings[d].da : dwellings[d].en, da ? bands[b].da : bands[b].en,
                da ? "i hele København" : "in all of Copenhagen");
}

/* Adds peers.group_text ("Compared with 154 apartments in Valby.") and, for a widened group, peers.widened_text (to
 * what and why); both null when no comparison is shown (peers.reason says why). */
static void describe_group(json_t *peers, json_t *household, int da)
{
    json_t *criteria = json_object_get(peers, "criteria");
    char group[160], own[160], out[TEXT_MAX];

    if (!json_is_true(json_object_get(peers, "available")) || !json_is_integer(json_object_get(peers, "n_households"))) {
        json_object_set_new(peers, "group_text", json_null());
        json_object_set_new(peers, "widened_text", json_null());
        return;
    }
    group_words(group, sizeof(group), json_string_value(json_object_get(criteria, "dwelling_type")),
                json_string_value(json_object_get(criteria, "occupant_band")),
                json_string_value(json_object_get(criteria, "district")), da);
    long long n = (long long)json_integer_value(json_object_get(peers, "n_households"));
    if (da)
        str_fmt(out, sizeof(out), "Sammenlignet med %lld %s.", n, group);
    else
        str_fmt(out, sizeof(out), "Compared with %lld %s.", n, group);
    json_object_set_new(peers, "group_text", json_string(out));
    if (!json_is_true(json_object_get(peers, "widened"))) {
        json_object_set_new(peers, "widened_text", json_null());
        return;
    }
    group_words(own, sizeof(own), json_string_value(json_object_get(household, "dwelling_type")),
                json_string_value(json_object_get(household, "occupant_band")),
                json_string_value(json_object_get(household, "district")), da);
    if (da)
        str_fmt(out, sizeof(out), "Gruppen er udvidet til alle %s, fordi færre end %d %s havde data i måneden.", group,
                PEER_GROUP_PREFERRED, own);
    else
        str_fmt(out, sizeof(out), "The group was widened to all %s because fewer than %d %s had data that month.", group,
                PEER_GROUP_PREFERRED, own);
    json_object_set_new(peers, "widened_text", json_string(out));
}

void citizen_tips_add(json_t *s, const char *lang)
{
    int da = strcmp(lang, "da") == 0;
    const char *rating = json_string_value(json_object_get(json_object_get(s, "peers"), "rating"));
    const char *month = json_string_value(json_object_get(s, "month"));
    int year = month != NULL ? (int)strtol(month, NULL, 10) : 2025;
    char words[TEXT_MAX];
    figures_t f;
    size_t r = 0;

    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < sizeof(figure_paths) / sizeof(figure_paths[0]); ++i)
        *(double *)((char *)&f + figure_paths[i].offset) = num(s, figure_paths[i].path);
    f.has_change = json_is_number(json_object_get(json_object_get(s, "last_year"), "change_pct"));
    f.change_pct = num(s, "last_year.change_pct");
    while (ratings[r].rating != NULL && (rating == NULL || strcmp(ratings[r].rating, rating) != 0))
        ++r;
    /* below the minimum comparison group the summary has no rating, only the reason (peers.reason, in both languages) */
    json_t *reason = json_object_get(json_object_get(json_object_get(s, "peers"), "reason"), da ? "da" : "en");
    if (rating == NULL && json_is_string(reason))
        str_fmt(words, sizeof(words), "%s", json_string_value(reason));
    else {
        const var_t vars[] = {{"total", f.total, 0, NULL}, {"median", f.median, 0, NULL}, {"p20", f.p20, 0, NULL}};
        fill(words, sizeof(words), da ? ratings[r].da : ratings[r].en, vars, 3, da);
    }
    json_object_set_new(json_object_get(s, "peers"), "rating_text", json_string(words));
    describe_group(json_object_get(s, "peers"), json_object_get(s, "household"), da);
    json_object_set_new(s, "kp2035", kp2035(&f, year, da));
    json_object_set_new(s, "tips", ranked_tips(&f, da));
    json_object_set_new(s, "lang", json_string(da ? "da" : "en"));
}
