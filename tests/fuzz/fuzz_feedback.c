/* libFuzzer: the POST /v1/feedback body — JSON parsing and validation by citizen_feedback_validate, the function the route
 * calls — on arbitrary bytes. Whatever the input: no crash, no leak, and an accepted body satisfies every rule the
 * database relies on (a known topic, rating 0..5, a message of at most 2,000 characters that is valid UTF-8 and not
 * blank, a message or a rating, a dataset only if known); a refused one carries a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "citizen/feedback.c" /* citizen_feedback_validate */
#include "core/strutil.h"

static int known(const char *id, void *ctx)
{
    (void)ctx;
    return strcmp(id, "energy-district-daily") == 0 || strcmp(id, "grid-intensity-hourly") == 0;
}

static size_t codepoints(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; ++s)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = NULL;
    citizen_feedback_input_t in;
    const char *param;
    char detail[300];

    if (size > FEEDBACK_MAX_BODY)
        return 0;
    detail[0] = '\0';
    if (citizen_feedback_validate((const char *)data, size, known, NULL, &root, &in, &param, detail, sizeof(detail)) == 0) {
        static const char *const topics[] = {"dataset", "dashboard", "data-error", "idea"};
        int topic_ok = 0;
        if (in.topic == NULL)
            __builtin_trap();
        for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); ++i)
            topic_ok |= strcmp(in.topic, topics[i]) == 0;
        if (!topic_ok || in.rating < 0 || in.rating > 5 || (in.message == NULL && in.rating == 0))
            __builtin_trap();
        if (in.dataset != NULL && !known(in.dataset, NULL))
            __builtin_trap();
        if (in.message != NULL) {
            size_t len = strlen(in.message);
            if (!str_is_utf8(in.message, len) || codepoints(in.message) > FEEDBACK_MAX_MESSAGE ||
                strspn(in.message, " \t\r\n") == len)
                __builtin_trap();
        }
    } else if (detail[0] == '\0') {
        __builtin_trap();
    }
    json_decref(root);
    return 0;
}
