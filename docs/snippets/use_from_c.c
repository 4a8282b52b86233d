/* The C ABI from C (docs/how-to/use-from-c.md). Runs alone. */
// [snippet:example]
#include <winmmf/winmmf_c.h>
#include <stdio.h>

int main(void)
{
    winmmf_mapping* m = NULL;
    int status = winmmf_open_or_create("Local\\telemetry", 4096, &m, NULL);
    if (status != WINMMF_OK) {
        char text[256];
        winmmf_error_message(status, text, sizeof text);
        fprintf(stderr, "winmmf: %s\n", text);
        return 1;
    }
    void* data = NULL;
    size_t length = 0;
    if (winmmf_lock_write(m, 100, &data, &length) == WINMMF_OK) {
        ((unsigned char*)data)[0] += 1;         /* exclusive: no other process sees a torn value */
        winmmf_unlock(m);
    }
    winmmf_close(m);
    return 0;
}
// [end:example]
