/* ofctrl: being written. */
