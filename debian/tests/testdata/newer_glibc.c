/* Built by the build root's gcc against its own, newer glibc: cfgetospeed binds the
   version that glibc 2.42 introduced (arbitrary baud rates), newer than any base's. */
#include <stdio.h>
#include <termios.h>

int main(void) {
    struct termios settings = {0};
    printf("%lu\n", (unsigned long)cfgetospeed(&settings));
    return 0;
}
