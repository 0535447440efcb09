/* Built by the build root's gcc against its own glibc: strtol binds __isoc23_strtol@GLIBC_2.38. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    printf("%ld\n", strtol(argc > 1 ? argv[1] : "42", NULL, 10));
    return 0;
}
